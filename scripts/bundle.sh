#!/usr/bin/env bash
# Builds the GPU bundle: a self-contained linux-x64 folder (the mistral-cu CLI and the test executables sharing one
# .NET runtime, InvariantGlobalization, untrimmed so xunit still finds its tests), the tiny fixture, the torch SDPA
# script and scripts/gpu-check.sh; then one .tar.xz of it, small enough to carry to a machine that has a GPU, a driver
# and CUDA but no .NET. The same steps as `build.ps1 bundle`.
#   scripts/bundle.sh [OUT_DIR]       (default artifacts/bundle; git-ignored)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-artifacts/bundle}
dir="$out/mistral-cu-linux-x64"
rm -rf "$dir"
mkdir -p "$dir"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
publish() {
    dotnet publish "$1" -c Release -r linux-x64 --self-contained true -p:PublishTrimmed=false \
        -p:InvariantGlobalization=true -p:DebugType=none -o "$dir" --nologo -v quiet
}
publish src/Mistral.Cli/Mistral.Cli.csproj
publish tests/Mistral.Kernels.Tests/Mistral.Kernels.Tests.csproj
publish tests/Mistral.Runtime.Tests/Mistral.Runtime.Tests.csproj
mkdir -p "$dir/fixtures" "$dir/bench"
cp -r tests/fixtures/tiny-mistral "$dir/fixtures/"
cp bench/sdpa_bench.py "$dir/bench/"
cp scripts/gpu-check.sh "$dir/"
git rev-parse HEAD > "$dir/COMMIT" 2>/dev/null || echo unknown > "$dir/COMMIT"
tar -C "$out" -cJf "$out/mistral-cu-linux-x64.tar.xz" mistral-cu-linux-x64
du -sh "$dir" "$out/mistral-cu-linux-x64.tar.xz"
