#!/usr/bin/env bash
# Builds the GPU bundle: the mistral-cu CLI and the test executables, self-contained for linux-x64 and sharing one .NET
# runtime (InvariantGlobalization; untrimmed, because trimming an xunit.v3 executable silently finds 0 tests), for a
# machine that has a GPU, its driver and CUDA but no .NET. The same steps as `build.ps1 bundle`.
#   scripts/bundle.sh [--with-serve] -> .bundle/mistral-cu-linux-x64/ and .bundle/mistral-cu-linux-x64.tar.xz (git-ignored)
# The fixtures are not copied: the test executables find tests/fixtures by walking up from their folder, so unpack the
# bundle inside a checkout (where scripts/gpu-check.sh expects it). Native files only a debugger, a tracer or an
# opt-in GC load are left out; the .tar.xz is ~27 MiB and travels with the checkout less the fixtures the device run
# does not read (scripts/device-tree.sh trim: ~29 MiB), together under 56 of the 64 MiB.
# Trimming is not used: it needs roots for the test executables' xunit assemblies (TrimmerRootAssembly) and,
# measured, fails on Mistral.Runtime's reflection-based System.Text.Json calls (IL2026 as errors).
# The plain dotnet lines, for a shell without this script:
#   dotnet publish src/Mistral.Cli/Mistral.Cli.csproj -c Release -r linux-x64 --self-contained -p:PublishTrimmed=false -o .bundle/mistral-cu-linux-x64
#   dotnet publish tests/Mistral.Kernels.Tests/Mistral.Kernels.Tests.csproj -c Release -r linux-x64 --self-contained -p:PublishTrimmed=false -o .bundle/mistral-cu-linux-x64
#   dotnet publish tests/Mistral.Runtime.Tests/Mistral.Runtime.Tests.csproj -c Release -r linux-x64 --self-contained -p:PublishTrimmed=false -o .bundle/mistral-cu-linux-x64
set -euo pipefail
cd "$(dirname "$0")/.."
out=.bundle
dir="$out/mistral-cu-linux-x64"
rm -rf "$dir" "$out/mistral-cu-linux-x64.tar.xz"
mkdir -p "$dir"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
for project in src/Mistral.Cli/Mistral.Cli.csproj tests/Mistral.Kernels.Tests/Mistral.Kernels.Tests.csproj \
               tests/Mistral.Runtime.Tests/Mistral.Runtime.Tests.csproj; do
    dotnet publish "$project" -c Release -r linux-x64 --self-contained true -p:PublishTrimmed=false \
        -p:InvariantGlobalization=true -p:DebugType=none -o "$dir" --nologo -v quiet
done
# ASP.NET Core (87 assemblies, 21 MB unpacked, ~8 MiB of the .tar.xz, measured) serves only `serve` and `bench serve`,
# which the device run (scripts/gpu-check.sh) does not call; every other verb starts without it. --with-serve keeps it.
[ "${1:-}" = "--with-serve" ] || rm -f "$dir"/Microsoft.AspNetCore.*.dll
# debugger (DAC/DBI, createdump), LTTng tracepoints, the standalone GCs: loaded only on request, never by a run
rm -f "$dir"/libmscordaccore.so "$dir"/libmscordbi.so "$dir"/createdump "$dir"/libcoreclrtraceptprovider.so "$dir"/libclrgc*.so
git rev-parse HEAD > "$dir/COMMIT" 2>/dev/null || echo unknown > "$dir/COMMIT"
"$dir/mistral-cu" --help > /dev/null   # the bundle starts
tar -C "$out" -cf - mistral-cu-linux-x64 | xz -9e -T0 > "$out/mistral-cu-linux-x64.tar.xz"
du -sh "$dir" "$out/mistral-cu-linux-x64.tar.xz"
scripts/device-tree.sh size   # the bundle and the trimmed tree against their budgets (exit 1 above)
