#!/usr/bin/env python3
"""Hugging Face's verdict on a checkpoint written by `mistral-cu train`.

Usage: hf_checkpoint_check.py CHECKPOINT_DIR OURS.json
OURS.json is `mistral-cu generate CHECKPOINT_DIR --temperature 0 --json` output. The checkpoint is loaded with
transformers' AutoModelForCausalLM (GPT2LMHeadModel or MistralForCausalLM, from its config.json) in fp32; at every
step of mistral-cu's greedy continuation HF must pick the same id, and the log-probability of that id must agree to
1e-3. Exit 0 on agreement, 1 otherwise.
"""
import json
import sys

import torch
from transformers import AutoModelForCausalLM


def main(checkpoint: str, ours_path: str) -> int:
    with open(ours_path, encoding="utf-8") as f:
        ours = json.load(f)
    model = AutoModelForCausalLM.from_pretrained(checkpoint, torch_dtype=torch.float32).eval()
    ids = list(ours["prompt_ids"])
    worst = 0.0
    with torch.no_grad():
        for want, logprob in zip(ours["ids"], ours["logprobs"]):
            logits = model(torch.tensor([ids])).logits[0, -1].double()
            logp = torch.log_softmax(logits, dim=-1)
            got = int(torch.argmax(logp))
            worst = max(worst, abs(float(logp[want]) - logprob))
            if got != want:
                print(f"FAIL: {type(model).__name__} picks id {got} where mistral-cu picked {want}, after {ids}")
                return 1
            ids.append(want)
    verdict = "PASS" if worst < 1e-3 else "FAIL"
    print(f"{verdict}: {type(model).__name__}.from_pretrained({checkpoint}): {len(ours['ids'])} greedy ids agree, "
          f"max |logprob diff| {worst:.2e}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
