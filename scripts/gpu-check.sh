#!/usr/bin/env bash
# Every GPU check of mistral-cu in one device call, on a machine with an NVIDIA GPU, its driver and the CUDA libraries
# (libcuda, libnvrtc, libcublas) but no .NET. Run from a checkout holding the bundle (scripts/bundle.sh):
#   scripts/gpu-check.sh [--plan] [--slow] [OUT_DIR]   (unpacks .bundle/mistral-cu-linux-x64.tar.xz first if needed)
# Writes at most nine flat files to OUT_DIR (default ./gpu-results): summary.txt and one log per group of steps.
# Never stops at a failing step: each step's exit code and time go into summary.txt; exits 1 if any step failed.
# --plan prints the steps, their limits and the sum, and runs nothing (no GPU, no bundle needed).
#
# It fits one device call (600 s): the step limits below sum to at most 540 s (--plan prints the sum), most wanted
# first, and a guard (GPU_CHECK_BUDGET, default 570 s from the start, unpacking included) shortens a step to the time
# left and skips a step that would get under 10 s, so the summary is always written before the call is cut.
# Dropped from the default run to fit (870 s of limits before): "bench train gpt2" (120 s) and "train + HF load"
# (240 s, transformers loading a checkpoint trained here); --slow runs only those two, in a second call. Shortened:
# selftest 90 -> 75, parity 60 -> 30 each, bench decode/kernels 90 -> 60 (decode now also at depth 4096, a full
# window), prefill 90 -> 45, LoRA train 120 -> 60, torch 60 -> 40, kernel tests 150 -> 90, runtime tests 60 -> 45.
set -uo pipefail
plan=""
slow=""
while [ $# -gt 0 ]; do
    case $1 in
    --plan) plan=1; shift ;;
    --slow) slow=1; shift ;;
    *) break ;;
    esac
done
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$PWD/gpu-results}
budget=${GPU_CHECK_BUDGET:-570}
bundle="$repo/.bundle/mistral-cu-linux-x64"
cli="$bundle/mistral-cu"
kernel_tests="$bundle/kernels-tests/Mistral.Kernels.Tests"
runtime_tests="$bundle/runtime-tests/Mistral.Runtime.Tests"
fixture="$repo/tests/fixtures/tiny-mistral"

# The steps, most wanted first: a device call is cut at its time limit, and each finished step is already in the summary.
# NAME|LOG|SECONDS|COMMAND (the command is word-split: no spaces inside an argument)
steps() {
    if [ -n "$slow" ]; then
        echo "bench train gpt2|bench.txt|120|$cli bench train --device cuda --model gpt2-small --seq-len 1024"
        echo "train + HF load|train.txt|240|$repo/scripts/train-hf-check.sh $cli"
        return
    fi
    echo "selftest|selftest.txt|75|$cli selftest --device cuda"
    echo "parity fp32|parity.txt|30|$cli parity $fixture --device cuda --precision fp32"
    echo "parity bf16|parity.txt|30|$cli parity $fixture --device cuda --precision bf16"
    echo "kernel tests|tests.txt|90|$kernel_tests -noColor"
    echo "bench decode 7b|bench.txt|60|$cli bench decode --device cuda --shape 7b --depth 1 4096"
    echo "bench kernels 7b|bench.txt|60|$cli bench kernels --device cuda --shape 7b"
    echo "bench prefill 7b|bench.txt|45|$cli bench prefill --device cuda --shape 7b"
    echo "torch sdpa|sdpa.txt|40|python3 $repo/bench/sdpa_bench.py --commit $commit"
    echo "runtime tests|tests.txt|45|$runtime_tests -noColor"
    echo "bench train 7b|bench.txt|60|$cli bench train --device cuda --shape 7b"
}

if [ -n "$plan" ]; then
    commit=COMMIT
    steps | awk -F'|' -v budget="$budget" '{ printf "%-18s %4ss  %-13s %s\n", $1, $3, $2, $4; s += $3 }
        END { printf "step limits: %d s in all; guard: %d s from the start\n", s, budget; exit (s > 540) }'
    exit
fi
mkdir -p "$out"
if [ ! -x "$cli" ]; then
    tar -C "$repo/.bundle" -xJf "$repo/.bundle/mistral-cu-linux-x64.tar.xz" || { echo "gpu-check: no bundle at $bundle" >&2; exit 2; }
fi
commit=$(cat "$bundle/COMMIT")
# a trimmed bundle has each test executable in its own folder (scripts/bundle.sh); an --untrimmed one, beside mistral-cu
if [ ! -d "$bundle/kernels-tests" ]; then kernel_tests="$bundle/Mistral.Kernels.Tests"; runtime_tests="$bundle/Mistral.Runtime.Tests"; fi
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
    echo "mistral-cu GPU check, commit $commit, $(date -u '+%Y-%m-%d %H:%M UTC')${slow:+ (--slow steps)}"
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv 2>&1
    echo "driver CUDA ${driver_major:-?}; CUDA libraries from: $cuda_from"
    echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
    for d in /usr/lib/x86_64-linux-gnu ${LD_LIBRARY_PATH//:/ }; do ls "$d" 2>/dev/null | grep -E '^lib(cuda|nvrtc|cublas)\.so' | sed "s#^#$d/#"; done | sort -u | tr '\n' ' '
    echo
} > "$summary"

# step NAME LOG SECONDS COMMAND...: appends the output to LOG and a line with the exit code to the summary; the limit
# shrinks to what the budget has left, and a step that would get under 10 s is skipped (rc "skip").
step() {
    local name=$1 log=$2 limit=$3
    shift 3
    local left=$((budget - SECONDS))
    if [ "$left" -lt 10 ]; then
        printf '%-22s rc=%-4s %4ss  (out of time: %ss of %ss used)\n' "$name" skip 0 "$SECONDS" "$budget" | tee -a "$summary"
        failed=1
        return
    fi
    [ "$limit" -le "$left" ] || limit=$left
    echo "== $name: $*" >> "$out/$log"
    local start=$SECONDS
    timeout "$limit" "$@" >> "$out/$log" 2>&1
    local rc=$?
    printf '%-22s rc=%-4s %4ss  (%s, limit %ss)\n' "$name" "$rc" "$((SECONDS - start))" "$log" "$limit" | tee -a "$summary"
    [ "$rc" -eq 0 ] || failed=1
}

case "$repo" in *" "*) echo "gpu-check: the checkout's path holds a space; the steps are word-split ($repo)" >&2; exit 2 ;; esac
while IFS='|' read -r -u 3 name log limit command; do
    # shellcheck disable=SC2086  # the command is word-split on purpose (no argument holds a space)
    step "$name" "$log" "$limit" $command < /dev/null
done 3< <(steps)
{
    echo
    echo "== figures"
    grep -hE '^\| |^device:|^train |TFLOP/s|max_abs_diff|passed, .* failed|Total: |^PASS: |^FAIL: |^done: |^flash_attn|^torch sdpa flash:' "$out/tests.txt" "$out/bench.txt" "$out/parity.txt" "$out/sdpa.txt" "$out/train.txt" 2>/dev/null
} >> "$summary"
cat "$summary"
exit "$failed"
