#!/usr/bin/env bash
# Builds the GPU bundle: the mistral-cu CLI and the test executables, self-contained for linux-x64 and trimmed, for a
# machine that has a GPU, its driver and CUDA but no .NET. The same steps as `build.ps1 bundle`.
#   scripts/bundle.sh [--with-serve] [--untrimmed] -> .bundle/mistral-cu-linux-x64/ and .bundle/mistral-cu-linux-x64.tar.xz
#   (git-ignored): mistral-cu at the top, the test executables in kernels-tests/ and runtime-tests/.
# The fixtures are not copied: the test executables find tests/fixtures by walking up from their folder, so unpack the
# bundle inside a checkout (where scripts/gpu-check.sh expects it).
#
# Trimming: TrimMode=partial trims only the assemblies marked trimmable (the .NET framework); ours, xunit's and every
# other package's are kept whole, so xunit still finds every test by reflection and Mistral.Runtime's reflection-based
# System.Text.Json still sees its types. Trim-analysis warnings (IL2026 on those System.Text.Json calls, as errors under
# TreatWarningsAsErrors) are not reported for this publish only (SuppressTrimAnalysisWarnings): the code they point at
# is in the untrimmed assemblies. The feature switches a trimmed publish turns off by default are turned back on where a
# run needs them: reflection-based JSON, the framework's own error messages (not resource keys), NullabilityInfoContext.
# Each app is trimmed for itself, so each has its own framework folder (a framework trimmed for the CLI lacks what the
# tests call): files identical to the CLI's are hard links, and xz finds the rest of the likeness.
# Measured 2026-12-06 on this commit's parent tree: trimmed, 56.1 MiB unpacked (58 hard links), 11.5 MiB .tar.xz
# (12,072,564 bytes); untrimmed, one shared folder: 86.4 MiB unpacked, 27.3 MiB .tar.xz (28,613,344 bytes). The test
# executables run from the trimmed bundle on a CPU machine found and passed what the untrimmed ones did: kernel tests
# 1711 total, 0 failed, 548 skipped; runtime tests 600 total, 0 failed, 2 skipped (the same -list output); the CLI's
# selftest --device emu, parity --device cpu, bench kernels --device emu and error messages were unchanged.
# --untrimmed builds the old way (one folder, no trimming) to compare; then the test executables sit beside mistral-cu.
# Left out either way: native files only a debugger, a tracer or an opt-in GC load, and (without --with-serve)
# ASP.NET Core, which serves only `serve` and `bench serve` (not in the device run).
set -euo pipefail
cd "$(dirname "$0")/.."
with_serve=""
trim=1
for arg in "$@"; do
    case $arg in
    --with-serve) with_serve=1 ;;
    --untrimmed) trim="" ;;
    *) echo "usage: scripts/bundle.sh [--with-serve] [--untrimmed]" >&2; exit 2 ;;
    esac
done
out=.bundle
dir="$out/mistral-cu-linux-x64"
rm -rf "$dir" "$out/mistral-cu-linux-x64.tar.xz"
mkdir -p "$dir"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
trimming=(-p:PublishTrimmed=false)
[ -z "$trim" ] || trimming=(-p:PublishTrimmed=true -p:TrimMode=partial -p:SuppressTrimAnalysisWarnings=true
    -p:JsonSerializerIsReflectionEnabledByDefault=true -p:UseSystemResourceKeys=false -p:NullabilityInfoContextSupport=true)
publish() {   # PROJECT FOLDER
    dotnet publish "$1" -c Release -r linux-x64 --self-contained true "${trimming[@]}" \
        -p:InvariantGlobalization=true -p:DebugType=none -o "$2" --nologo -v quiet
}
publish src/Mistral.Cli/Mistral.Cli.csproj "$dir"
tests=("$dir" "$dir")
[ -z "$trim" ] || tests=("$dir/kernels-tests" "$dir/runtime-tests")
publish tests/Mistral.Kernels.Tests/Mistral.Kernels.Tests.csproj "${tests[0]}"
publish tests/Mistral.Runtime.Tests/Mistral.Runtime.Tests.csproj "${tests[1]}"
for d in "$dir" "${tests[@]}"; do
    # ASP.NET Core (87 assemblies, 21 MB unpacked, ~8 MiB of an untrimmed .tar.xz, measured): serve and bench serve only
    [ -n "$with_serve" ] || rm -f "$d"/Microsoft.AspNetCore.*.dll
    # debugger (DAC/DBI, createdump), LTTng tracepoints, the standalone GCs: loaded only on request, never by a run
    rm -f "$d"/libmscordaccore.so "$d"/libmscordbi.so "$d"/createdump "$d"/libcoreclrtraceptprovider.so "$d"/libclrgc*.so
done
if [ -n "$trim" ]; then
    for d in "${tests[@]}"; do
        for f in "$d"/*; do
            top="$dir/${f##*/}"
            if [ -f "$top" ] && cmp -s "$f" "$top"; then ln -f "$top" "$f"; fi
        done
    done
fi
git rev-parse HEAD > "$dir/COMMIT" 2>/dev/null || echo unknown > "$dir/COMMIT"
"$dir/mistral-cu" --help > /dev/null   # the bundle starts
# sorted, so each test folder's copy of a framework file lies within xz's 64 MiB window of the CLI's
tar -C "$out" --sort=name -cf - mistral-cu-linux-x64 | xz -9e -T0 > "$out/mistral-cu-linux-x64.tar.xz"
du -sh "$dir" "$out/mistral-cu-linux-x64.tar.xz"
scripts/device-tree.sh size   # the bundle and the trimmed tree against their budgets (exit 1 above)
