namespace Mistral.Bench;

/// <summary>One kernel timing: median milliseconds, and the rate it implies from the bytes it must move and the flops it must do.</summary>
/// <param name="How">how the calls ran: "graph ×8" (replayed from a captured graph, over 8 operand copies), "launches ×8",
/// or "(no graph) ×8" when a decode-shaped call could not be captured (the launch path is then in the figure).</param>
public sealed record KernelFigure(string Kernel, string Shape, double Milliseconds, double Bytes, double Flops, string How)
{
    public double GBs => Bytes / (Milliseconds * 1e-3) / 1e9;
    public double TFlops => Flops / (Milliseconds * 1e-3) / 1e12;

    /// <summary>Compute-bound when its arithmetic intensity passes ~100 flop/byte (the ridge of a bf16 tensor-core GPU).</summary>
    public bool ComputeBound => Flops > 100 * Bytes;

    public const string Header = "| kernel                 | shape                              |   time (µs) |           rate | % of peak | timed as (L2 flushed)  |\n" +
                                 "| ---------------------- | ---------------------------------- | ----------: | -------------: | --------: | ---------------------- |";

    public string Format(DevicePeaks? peaks)
    {
        string rate = ComputeBound ? $"{TFlops,6:F1} TFLOP/s" : $"{GBs,9:F0} GB/s";
        string percent = peaks is null ? "-" : ComputeBound ? peaks.PercentOfCompute(TFlops) : peaks.PercentOfBandwidth(GBs);
        return $"| {Kernel,-22} | {Shape,-34} | {Milliseconds * 1e3,11:F1} | {rate,14} | {percent,9} | {How,-22} |";
    }
}
