#!/usr/bin/env bash
# `mistral-cu train` on the GPU, judged by Hugging Face: trains the example config for 20 steps in bf16 mixed
# precision, then loads checkpoint-20 with transformers (scripts/hf_checkpoint_check.py) and compares its greedy
# continuation and log-probabilities with mistral-cu's own (fp32). Usage: train-hf-check.sh MISTRAL_CU
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cli=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$cli" train "$repo/examples/train/gpt2-micro.yaml" --device cuda --set "artifacts.run_dir=$dir" --set "artifacts.cache_dir=$dir/cache" \
    --set training_arguments.max_steps=20 --set training_arguments.logging_steps=5 --set training_arguments.bf16=true \
    --set "checkpoint_frequency=[[20, 20]]"
checkpoint="$dir/gpt2-micro-factbook/checkpoint-20"
"$cli" generate "$checkpoint" --prompt "The country" --max-tokens 8 --temperature 0 --json --device cuda --precision fp32 > "$dir/ours.json"
python3 "$repo/scripts/hf_checkpoint_check.py" "$checkpoint" "$dir/ours.json"
