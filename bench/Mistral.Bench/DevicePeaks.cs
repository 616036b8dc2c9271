namespace Mistral.Bench;

/// <summary>
/// Datasheet peaks a figure is compared against: HBM bandwidth and dense bf16 tensor-core throughput (no sparsity).
/// Matched on the device name the driver reports; unknown devices print no percentage rather than a guess.
/// </summary>
public sealed record DevicePeaks(string Match, double BandwidthGBs, double Bf16TFlops)
{
    private static readonly DevicePeaks[] Known =
    [
        new("H200", 4800, 989),
        new("H100 PCIe", 2000, 756),
        new("H100", 3350, 989),       // SXM5
        new("A100-SXM4-80GB", 2039, 312),
        new("A100", 1555, 312),
        new("L40S", 864, 362),
        new("RTX 4090", 1008, 165),
    ];

    public static DevicePeaks? For(string deviceName) =>
        Known.FirstOrDefault(p => deviceName.Contains(p.Match, StringComparison.OrdinalIgnoreCase));

    public string PercentOfBandwidth(double gbs) => $"{100 * gbs / BandwidthGBs:F0}%";
    public string PercentOfCompute(double tflops) => $"{100 * tflops / Bf16TFlops:F0}%";
}
