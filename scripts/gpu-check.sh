#!/usr/bin/env bash
# Every GPU check of mistral-cu in one go, run from the unpacked bundle (scripts/bundle.sh) on a machine with an
# NVIDIA GPU, its driver and the CUDA libraries (libcuda, libnvrtc, libcublas) but no .NET:
#   tar xJf mistral-cu-linux-x64.tar.xz && mistral-cu-linux-x64/gpu-check.sh [OUT_DIR]
# Writes at most eight files to OUT_DIR (default ./gpu-results): summary.txt plus one log per step. Never stops at a
# failing step: each step's exit code goes into summary.txt, and the script exits non-zero if any step failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$PWD/gpu-results}
mkdir -p "$out"
cli="$here/mistral-cu"
fixture="$here/fixtures/tiny-mistral/native"
summary="$out/summary.txt"
failed=0
{
    echo "mistral-cu GPU check, commit $(cat "$here/COMMIT" 2>/dev/null || echo unknown), $(date -u '+%Y-%m-%d %H:%M UTC')"
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv 2>&1
} > "$summary"

# step NAME LOG COMMAND...: appends the command's output to LOG and its exit code to the summary.
step() {
    local name=$1 log=$2
    shift 2
    echo "== $name: $*" | tee -a "$out/$log"
    local start=$SECONDS
    "$@" >> "$out/$log" 2>&1
    local rc=$?
    printf '%-28s rc=%-3s %5ss  (%s)\n' "$name" "$rc" "$((SECONDS - start))" "$log" | tee -a "$summary"
    [ "$rc" -eq 0 ] || failed=1
}

step "kernel tests"        tests.txt   "$here/Mistral.Kernels.Tests"
step "runtime tests"       tests.txt   "$here/Mistral.Runtime.Tests"
step "selftest"            selftest.txt "$cli" selftest --device cuda
step "parity fp32"         parity.txt  "$cli" parity "$fixture" --device cuda --precision fp32
step "parity bf16"         parity.txt  "$cli" parity "$fixture" --device cuda --precision bf16
step "bench kernels 7b"    bench.txt   "$cli" bench kernels --device cuda --shape 7b
step "bench prefill 7b"    bench.txt   "$cli" bench prefill --device cuda --shape 7b
step "bench decode 7b"     bench.txt   "$cli" bench decode --device cuda --shape 7b
step "torch sdpa"          sdpa.txt    python3 "$here/bench/sdpa_bench.py"
{
    echo
    echo "== figures"
    grep -hE '^(pp|tg) |tok/s|TFLOP/s|GB/s|max abs|top-1' "$out/bench.txt" "$out/parity.txt" "$out/sdpa.txt" 2>/dev/null
} >> "$summary"
cat "$summary"
exit "$failed"
