using Mistral.Runtime.Models.Mistral;

namespace Mistral.Bench;

/// <summary>Sizes, repetitions and the cache-busting of <see cref="KernelBench"/>; <see cref="For"/> picks them for a preset.</summary>
/// <param name="RotateBytes">Operand copies are made until together they hold this much (at most <paramref name="MaxCopies"/>):
/// a sample calls the kernel once on each copy, so a pass over them outgrows the L2 cache.</param>
/// <param name="FlushBytes">Memset before every sample, outside the timed region: at least twice the device's L2, so
/// what the previous sample left there is gone (an H100's L2 is 50 MB, an H200's 60 MB).</param>
public sealed record KernelBenchOptions(int PrefillTokens, int AttentionTokens, int Warmup, int Repetitions,
    long RotateBytes, long FlushBytes, int MaxCopies)
{
    /// <summary>
    /// 7B: the figures (prefill 2048, attention 8k), 256 MiB rotated and flushed; the tiny shape: a smoke test
    /// the emulator finishes in seconds, still with several copies and a flush so the same code path runs.
    /// </summary>
    public static KernelBenchOptions For(MistralConfig config, bool emulated) =>
        emulated || config.Dim < 1024
            ? new KernelBenchOptions(PrefillTokens: 32, AttentionTokens: 40, Warmup: 0, Repetitions: 1,
                RotateBytes: 64 << 10, FlushBytes: 1 << 20, MaxCopies: 3)
            : new KernelBenchOptions(PrefillTokens: 2048, AttentionTokens: 8192, Warmup: 2, Repetitions: 10,
                RotateBytes: 256L << 20, FlushBytes: 256L << 20, MaxCopies: 32);
}
