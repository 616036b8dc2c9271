#!/usr/bin/env bash
# Every GPU check of mistral-cu in one go, on a machine with an NVIDIA GPU, its driver and the CUDA libraries
# (libcuda, libnvrtc, libcublas) but no .NET. Run from a checkout holding the bundle (scripts/bundle.sh):
#   scripts/gpu-check.sh [OUT_DIR]      (unpacks .bundle/mistral-cu-linux-x64.tar.xz first if needed)
# Writes at most nine flat files to OUT_DIR (default ./gpu-results): summary.txt and one log per group of steps.
# Never stops at a failing step: each step's exit code and time go into summary.txt; exits 1 if any step failed.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$PWD/gpu-results}
mkdir -p "$out"
bundle="$repo/.bundle/mistral-cu-linux-x64"
if [ ! -x "$bundle/mistral-cu" ]; then
    tar -C "$repo/.bundle" -xJf "$repo/.bundle/mistral-cu-linux-x64.tar.xz" || { echo "gpu-check: no bundle at $bundle" >&2; exit 2; }
fi
cli="$bundle/mistral-cu"
fixture="$repo/tests/fixtures/tiny-mistral"
export MISTRAL_CU_CACHE="$repo/.bundle/kernel-cache"
# Where CUDA libraries live on GPU machines that have no system-wide toolkit: the driver's folder, a toolkit
# (/usr/local/cuda) and the CUDA wheels PyTorch brings (nvidia/*/lib: libnvrtc, libcublas). Exactly one of the last two
# goes on the path: the one whose NVRTC and cuBLAS share the newest major not above the driver's CUDA major (CUDA 13
# libraries on a 12.x driver load, then fail at cuModuleLoadData/cublasCreate; a 12.x toolkit beside 13.x wheels
# would mix majors by load order). The loader applies the same rule (NativeLibraryLoader.CandidateSonames).
driver_major=$(nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9]*\)\..*/\1/p' | head -n 1)
toolkit_dirs="/usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib"
wheel_dirs=$(python3 -c 'import glob, site; print(" ".join(sorted({d for p in site.getsitepackages() for d in glob.glob(p + "/nvidia/*/lib")})))' 2>/dev/null)
# major DIRS...: the newest major M (<= driver) for which libnvrtc.so.M and libcublas.so.M both lie in DIRS
major() {
    local m best=""
    for m in 13 12 11; do
        [ -n "$driver_major" ] && [ "$m" -gt "$driver_major" ] && continue
        local nvrtc="" cublas=""
        for d in "$@"; do
            ls "$d"/libnvrtc.so."$m"* >/dev/null 2>&1 && nvrtc=1
            ls "$d"/libcublas.so."$m"* >/dev/null 2>&1 && cublas=1
        done
        if [ -n "$nvrtc" ] && [ -n "$cublas" ]; then best=$m; break; fi
    done
    echo "$best"
}
toolkit_major=$(major $toolkit_dirs)
wheel_major=$(major $wheel_dirs)
if [ -n "$toolkit_major" ] && [ "${toolkit_major}" -ge "${wheel_major:-0}" ]; then cuda_dirs=$toolkit_dirs; cuda_from="toolkit, CUDA $toolkit_major"
elif [ -n "$wheel_major" ]; then cuda_dirs=$wheel_dirs; cuda_from="pip wheels, CUDA $wheel_major"
else cuda_dirs=""; cuda_from="none found at or below the driver's CUDA ${driver_major:-?}"; fi
extra=""
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib $cuda_dirs; do
    [ -d "$d" ] && extra="$extra:$d"
done
export LD_LIBRARY_PATH="${extra#:}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
summary="$out/summary.txt"
failed=0
{
    echo "mistral-cu GPU check, commit $(cat "$bundle/COMMIT"), $(date -u '+%Y-%m-%d %H:%M UTC')"
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv 2>&1
    echo "driver CUDA ${driver_major:-?}; CUDA libraries from: $cuda_from"
    echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
    for d in /usr/lib/x86_64-linux-gnu ${LD_LIBRARY_PATH//:/ }; do ls "$d" 2>/dev/null | grep -E '^lib(cuda|nvrtc|cublas)\.so' | sed "s#^#$d/#"; done | sort -u | tr '\n' ' '
    echo
} > "$summary"

# step NAME LOG SECONDS COMMAND...: appends the output to LOG and a line with the exit code to the summary.
step() {
    local name=$1 log=$2 limit=$3
    shift 3
    echo "== $name: $*" >> "$out/$log"
    local start=$SECONDS
    timeout "$limit" "$@" >> "$out/$log" 2>&1
    local rc=$?
    printf '%-22s rc=%-3s %4ss  (%s)\n' "$name" "$rc" "$((SECONDS - start))" "$log" | tee -a "$summary"
    [ "$rc" -eq 0 ] || failed=1
}

# Most wanted first: a device call is cut at its time limit, and each finished step is already in the summary.
step "selftest"          selftest.txt  90 "$cli" selftest --device cuda
step "parity fp32"       parity.txt    60 "$cli" parity "$fixture" --device cuda --precision fp32
step "parity bf16"       parity.txt    60 "$cli" parity "$fixture" --device cuda --precision bf16
step "bench decode 7b"   bench.txt     90 "$cli" bench decode --device cuda --shape 7b
step "bench prefill 7b"  bench.txt     90 "$cli" bench prefill --device cuda --shape 7b
step "bench kernels 7b"  bench.txt     90 "$cli" bench kernels --device cuda --shape 7b
step "bench train 7b"    bench.txt    120 "$cli" bench train --device cuda --shape 7b
step "bench train gpt2"  bench.txt    120 "$cli" bench train --device cuda --model gpt2-small --seq-len 1024
step "train + HF load"   train.txt    240 "$repo/scripts/train-hf-check.sh" "$cli"
step "torch sdpa"        sdpa.txt      60 python3 "$repo/bench/sdpa_bench.py"
step "kernel tests"      tests.txt    150 "$bundle/Mistral.Kernels.Tests" -noColor
step "runtime tests"     tests.txt     60 "$bundle/Mistral.Runtime.Tests" -noColor
{
    echo
    echo "== figures"
    grep -hE '^\| |^device:|^train |TFLOP/s|max_abs_diff|passed, .* failed|Total: |^PASS: |^FAIL: |^done: ' "$out/tests.txt" "$out/bench.txt" "$out/parity.txt" "$out/sdpa.txt" "$out/train.txt" 2>/dev/null
} >> "$summary"
cat "$summary"
exit "$failed"
