"""The side-by-side figures for `mistral-cu bench kernels --shape 7b`'s "attention prefill" row: the best attention
kernels PyTorch can reach on the same shape (T 8192, W 4096, Dh 128, Mistral 7B's 32 query and 8 kv heads, bf16),
timed with CUDA events (warm-up, median of N) and printed as rows of bench/RESULTS.md's kernel table.

  * torch scaled_dot_product_attention, flash backend forced, causal (PyTorch has no window flag, and a mask takes the
    flash backend away, so this row does the whole causal triangle: more work than a window of 4096);
  * flash_attn_func(q, k, v, causal=True, window_size=(W - 1, 0)) where the flash-attn package is importable (FA2;
    FA3's flash_attn_interface too, on Hopper): the same window as ours, a query sees itself and W - 1 keys back;
  * with --masked, SDPA with a banded boolean mask (the same work as ours, on whatever backend torch picks for a mask).

FLOPs are counted the way FlashAttention's benchmarks count them: 4 · Dh · H per visible (query, key) pair (QKᵀ and
PV, 2 flops per multiply-add), causal = T² / 2 pairs, a window W counts only its band, T·W - W² / 2 pairs; so a
causal row and a windowed row are compared per flop. Every tensor and mask is made before the timed region.
    python3 bench/sdpa_bench.py [--tokens 8192 --window 4096 --head-dim 128 --heads 32 --kv-heads 8 --iters 20]
                                [--commit SHA] [--masked] [--plan]
--plan prints the shapes and FLOP counts without torch (what this script would time, on any machine).
"""
import argparse
import contextlib
import datetime
import statistics

# Dense bf16 tensor-core peaks (no sparsity), as bench/Mistral.Bench/DevicePeaks.cs lists them for `bench kernels`.
PEAK_TFLOPS = [("H200", 989), ("H100 PCIe", 756), ("H100", 989), ("A100", 312), ("L40S", 362)]


def causal_flops(tokens, head_dim, heads):
    return 4 * head_dim * heads * tokens * tokens / 2


def band_flops(tokens, window, head_dim, heads):
    # a query sees min(i + 1, W) keys: the triangle up to W, then a band of width W
    if window >= tokens:
        return causal_flops(tokens, head_dim, heads)
    return 4 * head_dim * heads * (tokens * window - window * window / 2)


def time_ms(torch, fn, warmup, iters):
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
    p.add_argument("--commit", default="", help="the commit column of the rows (gpu-check passes the bundle's)")
    p.add_argument("--masked", action="store_true", help="also time SDPA with a banded boolean mask")
    p.add_argument("--plan", action="store_true", help="print shapes and FLOP counts only; needs no torch")
    a = p.parse_args()
    t, w, dh, h, hkv = a.tokens, a.window, a.head_dim, a.heads, a.kv_heads
    shape = f"T {t}, W {w}, Dh {dh}, {h}/{hkv} heads"
    if a.plan:
        print(f"plan: {shape}, bf16; causal {causal_flops(t, dh, h) / 1e12:.3f} TFLOP, window band {band_flops(t, w, dh, h) / 1e12:.3f} TFLOP per forward")
        return

    import torch
    import torch.nn.functional as F
    if not torch.cuda.is_available():
        raise SystemExit("sdpa_bench: no CUDA device visible to PyTorch")
    dev = torch.device("cuda")
    name = torch.cuda.get_device_name(dev)
    peak = next((tf for match, tf in PEAK_TFLOPS if match.lower() in name.lower()), None)
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    print(f"device: {name}, torch {torch.__version__}, CUDA {torch.version.cuda}")

    def row(kernel, row_shape, ms, flops):
        tf = flops / (ms * 1e-3) / 1e12
        percent = f"{100 * tf / peak:.0f}%" if peak else "-"
        print(f"| {name} | {date} | {a.commit} | {kernel} | {row_shape} | {ms:.3f} ms | {tf:.1f} TFLOP/s | {percent} |", flush=True)

    torch.manual_seed(0)
    # SDPA's layout [B, H, T, Dh]; flash_attn's [B, T, H, Dh] (it takes GQA's fewer kv heads as they are)
    q = torch.randn(1, h, t, dh, device=dev, dtype=torch.bfloat16)
    k = torch.randn(1, hkv, t, dh, device=dev, dtype=torch.bfloat16)
    v = torch.randn(1, hkv, t, dh, device=dev, dtype=torch.bfloat16)

    try:
        from torch.nn.attention import SDPBackend, sdpa_kernel
        flash_only = lambda: sdpa_kernel(SDPBackend.FLASH_ATTENTION)
    except ImportError:   # torch < 2.3
        flash_only = lambda: torch.backends.cuda.sdp_kernel(enable_flash=True, enable_math=False, enable_mem_efficient=False)
    # GQA: enable_gqa (torch >= 2.5) lets the kernel read the 8 kv heads as they are; older torch gets K/V repeated to
    # 32 heads once, here, outside the timed region
    gqa = "enable_gqa"
    try:
        with flash_only():
            F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        sdpa = lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    except (TypeError, RuntimeError):
        gqa = "K/V repeated"
        kr, vr = k.repeat_interleave(h // hkv, dim=1), v.repeat_interleave(h // hkv, dim=1)
        sdpa = lambda: F.scaled_dot_product_attention(q, kr, vr, is_causal=True)
    try:
        with flash_only():
            ms = time_ms(torch, sdpa, a.warmup, a.iters)
        row(f"torch sdpa flash causal bf16 ({gqa})", f"T {t} (causal, no window), Dh {dh}, {h}/{hkv} heads", ms, causal_flops(t, dh, h))
    except RuntimeError as e:
        print(f"torch sdpa flash: not run on this machine ({str(e).splitlines()[0]})")

    qf, kf, vf = (x.transpose(1, 2).contiguous() for x in (q, k, v))
    for module, label in (("flash_attn", "flash_attn"), ("flash_attn_interface", "flash_attn 3")):
        try:
            flash_attn_func = __import__(module, fromlist=["flash_attn_func"]).flash_attn_func
        except ImportError as e:
            print(f"{label}: not importable here ({type(e).__name__}: {e}); no {label} row")
            continue
        version = getattr(__import__(module), "__version__", "?")
        for causal_only in (False, True):
            kwargs = {"causal": True} if causal_only else {"causal": True, "window_size": (w - 1, 0)}
            call = lambda: flash_attn_func(qf, kf, vf, **kwargs)   # FA3 may return (out, lse): the time is the same
            try:
                ms = time_ms(torch, call, a.warmup, a.iters)
            except (RuntimeError, TypeError) as e:
                print(f"{label} {version} {kwargs}: failed ({str(e).splitlines()[0]})")
                continue
            if causal_only:
                row(f"{label} {version} causal bf16", f"T {t} (causal, no window), Dh {dh}, {h}/{hkv} heads", ms, causal_flops(t, dh, h))
            else:
                row(f"{label} {version} window_size=({w - 1}, 0) bf16", shape, ms, band_flops(t, w, dh, h))

    if a.masked:
        i = torch.arange(t, device=dev)
        band = (i[None, :] <= i[:, None]) & (i[:, None] - i[None, :] < w)   # [T, T] True = visible, built untimed
        kr, vr = k.repeat_interleave(h // hkv, dim=1), v.repeat_interleave(h // hkv, dim=1)
        ms = time_ms(torch, lambda: F.scaled_dot_product_attention(q, kr, vr, attn_mask=band), a.warmup, a.iters)
        row("torch sdpa banded mask bf16 (backend: torch's pick)", shape, ms, band_flops(t, w, dh, h))


if __name__ == "__main__":
    main()
