using System.Globalization;
using Mistral.Kernels.Checks;
using Mistral.Kernels.Device.Emulation;
using Mistral.Testing.Devices;
using Xunit;

namespace Mistral.Kernels.Tests.Emulation;

/// <summary>
/// The hot loops of the real kernels on the emulator's counters build (<see cref="KernelMemoryCounters.Hot"/>: the
/// sites that carry ≥ 10% of a kernel's shared wavefronts or global sectors), one representative case each: shared
/// accesses at most 2-way bank-conflicted and global accesses using every sector they touch. Where a kernel misses
/// that today, its row states today's figure as the bound (kernels/README.md "Memory-access counters" lists these
/// debts), so a change can only hold or improve it; tighten a row when its kernel is fixed.
/// </summary>
public sealed class KernelMemoryAccessTests
{
    private const int Ways = 2;
    private const double Full = 1.0;

    /// <summary>Check (the selftest case), entry point, worst bank-conflict ways and lowest sector efficiency of its hot sites.</summary>
    public static TheoryData<string, string, int, double> Bounds() => new()
    {
        { "elementwise_add f32 [65537]", "elementwise_add_f32", Ways, Full },
        { "elementwise_add bf16 [65537]", "elementwise_add_bf16", Ways, Full },
        { "elementwise_scale f32 [65537]", "elementwise_scale_f32", Ways, Full },
        { "swiglu_forward bf16 rows2_hidden14336_7b", "swiglu_forward_bf16", Ways, Full },
        { "swiglu_backward f32 rows2_hidden14336_7b", "swiglu_backward_f32", Ways, Full },
        { "rmsnorm_forward f32 rows2_dim4096_7b", "rmsnorm_forward_f32", Ways, Full },
        { "rmsnorm_forward bf16 rows2_dim4096_7b", "rmsnorm_forward_bf16", Ways, Full },
        { "rmsnorm_backward f32 rows2_dim4096_7b", "rmsnorm_backward_f32", Ways, Full },
        { "rmsnorm_backward f32 rows2_dim4096_7b", "rmsnorm_backward_dweight_partials_f32", Ways, Full },
        { "rmsnorm_backward f32 rows2_dim4096_7b", "rmsnorm_backward_dweight_sum_f32", Ways, Full },
        { "rope_forward f32 t4_h32_d128_7b", "rope_forward_f32", Ways, Full },
        { "rope_forward bf16 t4_h32_d128_7b", "rope_forward_bf16", Ways, Full },
        { "kv_cache_append bf16 decode_batch_wrapped", "kv_cache_append", Ways, Full },
        { "gemv_forward bf16 m1_n101_k1024_unrolled", "gemv_forward_bf16", Ways, Full },
        { "gemv_forward f32 m1_n101_k1024_unrolled", "gemv_forward_f32", Ways, Full },
        { "gemv_swiglu bf16 m1_f176_k64_tiny", "gemv_swiglu_bf16", Ways, Full },   // rows of 128 bytes: whole sectors (k1032 rows start mid-sector)
        { "attention_prefill f32 causal-mha-hd64", "attention_prefill_forward_f32_hd64", Ways, Full },
        { "attention_prefill bf16 causal-mha-hd64", "attention_prefill_forward_bf16_hd64", Ways, Full },
        { "attention_decode bf16 gpt2-decode-full-cache", "attention_decode_split_bf16_hd64", Ways, Full },   // C lanes per key row
        // debt: dQ/dK/dV leave the mma accumulators as 4-byte bf16 pairs, 4 lanes per row over 8 rows: half of each
        // sector (attention_backward_mma_store); staging the tile through shared memory would make them 16-byte rows
        { "attention_backward bf16 causal-mha-hd64", "attention_backward_dq_bf16_hd64", Ways, 0.50 },
        { "attention_backward bf16 causal-mha-hd64", "attention_backward_dkdv_bf16_hd64", Ways, 0.50 },
    };

    [Theory]
    [MemberData(nameof(Bounds))]
    public void HotSites_RepresentativeCase_WithinBound(string check, string kernel, int ways, double efficiency)
    {
        using var device = TestDevices.EmulatedWithCounters();
        var c = KernelChecks.All().Single(k => k.Name == check);
        using (var scope = new DeviceScope(device)) Assert.Null(c.Run(scope).Failure());
        var counters = device.Counters!.For(kernel);
        var hot = counters.Hot().ToList();
        Assert.True(hot.Count > 0, $"{kernel} made no shared or global access in {check}");
        var table = string.Join("\n", hot.Select(Describe));
        Assert.True(hot.Where(s => s.Shared).All(s => s.WorstWays <= ways), $"{kernel}: a hot shared site above {ways}-way:\n{table}");
        Assert.True(hot.Where(s => !s.Shared).All(s => s.SectorEfficiency >= efficiency - 1e-9),
            $"{kernel}: a hot global site below {efficiency:P0} sector efficiency:\n{table}");
    }

    private static string Describe(MemoryAccessSite s) => s.Shared
        ? string.Create(CultureInfo.InvariantCulture, $"  {s.Kind} {s.Location}: {s.Requests} req, {s.AverageWays:0.00} avg / {s.WorstWays} worst ways")
        : string.Create(CultureInfo.InvariantCulture, $"  {s.Kind} {s.Location}: {s.Requests} req, {s.SectorsPerRequest:0.00} sectors/req, {s.SectorEfficiency:P1} (worst {s.WorstEfficiency:P1})");
}
