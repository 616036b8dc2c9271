"""The side-by-side figure for `mistral-cu bench kernels`: torch.nn.functional.scaled_dot_product_attention on the
attention shape the project's flash kernel is judged at (8k tokens, window 4096, head_dim 128, Mistral 7B's 32 query
and 8 kv heads, bf16), timed with CUDA events (warm-up, median of N), reported in the same units.

PyTorch has no sliding-window flag: a banded boolean mask is what it takes, and a mask sends SDPA to its
memory-efficient or math kernel. So two figures are printed: the banded mask (same work as ours) and plain causal on
the flash backend (more work, the best kernel torch has), both with TFLOP/s counted over the keys each query is
allowed to see (the windowed count for the first, the causal count for the second).
    python3 bench/sdpa_bench.py [--tokens 8192 --window 4096 --head-dim 128 --heads 32 --kv-heads 8 --iters 20]
"""
import argparse
import statistics

import torch
import torch.nn.functional as F


def visible_pairs(tokens, window):
    # query i sees min(i + 1, window) keys
    return sum(min(i + 1, window) for i in range(tokens))


def time_ms(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tokens", type=int, default=8192)
    p.add_argument("--window", type=int, default=4096)
    p.add_argument("--head-dim", type=int, default=128)
    p.add_argument("--heads", type=int, default=32)
    p.add_argument("--kv-heads", type=int, default=8)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--iters", type=int, default=20)
    a = p.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("sdpa_bench: no CUDA device visible to PyTorch")
    dev = torch.device("cuda")
    print(f"device: {torch.cuda.get_device_name(dev)}, torch {torch.__version__}")
    g = a.heads // a.kv_heads
    q = torch.randn(1, a.heads, a.tokens, a.head_dim, device=dev, dtype=torch.bfloat16)
    k = torch.randn(1, a.kv_heads, a.tokens, a.head_dim, device=dev, dtype=torch.bfloat16)
    v = torch.randn(1, a.kv_heads, a.tokens, a.head_dim, device=dev, dtype=torch.bfloat16)
    # GQA by repeating K/V (enable_gqa exists only in newer torch; the repeat is outside the timed region)
    kr, vr = k.repeat_interleave(g, dim=1), v.repeat_interleave(g, dim=1)
    i = torch.arange(a.tokens, device=dev)
    band = (i[None, :] <= i[:, None]) & (i[:, None] - i[None, :] < a.window)   # [T, T] True = visible
    flops_per_pair = 4 * a.head_dim * a.heads                                    # QK and PV, 2 flops per MAC

    ms = time_ms(lambda: F.scaled_dot_product_attention(q, kr, vr, attn_mask=band), a.warmup, a.iters)
    tf = visible_pairs(a.tokens, a.window) * flops_per_pair / (ms * 1e-3) / 1e12
    print(f"torch sdpa banded mask  T={a.tokens} W={a.window} Dh={a.head_dim} H={a.heads}/{a.kv_heads}: {ms:8.3f} ms  {tf:7.1f} TFLOP/s")

    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel
        ctx = sdpa_kernel(SDPBackend.FLASH_ATTENTION)
    except ImportError:
        import contextlib
        ctx = contextlib.nullcontext()
    with ctx:
        ms = time_ms(lambda: F.scaled_dot_product_attention(q, kr, vr, is_causal=True), a.warmup, a.iters)
    tf = visible_pairs(a.tokens, a.tokens) * flops_per_pair / (ms * 1e-3) / 1e12
    print(f"torch sdpa causal flash T={a.tokens} (no window)  Dh={a.head_dim} H={a.heads}/{a.kv_heads}: {ms:8.3f} ms  {tf:7.1f} TFLOP/s")


if __name__ == "__main__":
    main()
