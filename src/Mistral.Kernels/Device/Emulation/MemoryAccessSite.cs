using System.Runtime.InteropServices;

namespace Mistral.Kernels.Device.Emulation;

/// <summary>
/// The totals of one load or store instruction of an emulated kernel (the counters build): its warp instructions and,
/// for shared memory, bank-conflict wavefronts; for global memory, 32-byte sectors. cuda_emu.h ("memory-access
/// counters") states the model.
/// </summary>
/// <param name="Offset">The instruction's offset in the kernel library (see <see cref="Location"/>).</param>
/// <param name="Shared">Shared memory; otherwise global (device) memory.</param>
/// <param name="Store">A store; otherwise a load.</param>
/// <param name="Requests">Warp instructions.</param>
/// <param name="Wavefronts">Shared: each phase's conflict degree (most distinct 4-byte words one bank serves), summed.</param>
/// <param name="Phases">Shared: phases with an active lane (one per 4-byte access, two per 8-byte, four per 16-byte).</param>
/// <param name="WorstWays">Shared: the worst phase's conflict degree (1 = conflict-free, 32 = every lane in one bank).</param>
/// <param name="Sectors">Global: distinct 32-byte sectors touched, summed over requests.</param>
/// <param name="MinSectors">Global: the fewest sectors that could carry each request's distinct bytes, summed.</param>
/// <param name="WorstSectors">Global: the request with the lowest efficiency: its sectors ...</param>
/// <param name="WorstMinSectors">... and its minimum.</param>
/// <param name="Location">"rmsnorm.cu:52", or the offset in hex when the library has no line for it.</param>
public sealed record MemoryAccessSite(
    ulong Offset, bool Shared, bool Store, long Requests, long Wavefronts, long Phases, int WorstWays,
    long Sectors, long MinSectors, long WorstSectors, long WorstMinSectors, string Location)
{
    /// <summary>Shared: wavefronts per ideal wavefront (1 = conflict-free throughout).</summary>
    public double AverageWays => Phases == 0 ? 1 : (double)Wavefronts / Phases;

    /// <summary>Global: sectors per warp request.</summary>
    public double SectorsPerRequest => Requests == 0 ? 0 : (double)Sectors / Requests;

    /// <summary>Global: the minimum sectors over the sectors touched (1 = every sector fully used).</summary>
    public double SectorEfficiency => Sectors == 0 ? 1 : (double)MinSectors / Sectors;

    /// <summary>Global: the efficiency of the worst request.</summary>
    public double WorstEfficiency => WorstSectors == 0 ? 1 : (double)WorstMinSectors / WorstSectors;

    public string Kind => $"{(Shared ? "shared" : "global")} {(Store ? "store" : "load")}";

    /// <summary>Both sites' totals (the same instruction over two launches).</summary>
    internal MemoryAccessSite Plus(MemoryAccessSite o)
    {
        var worse = o.WorstSectors != 0 && (WorstSectors == 0 || o.WorstMinSectors * WorstSectors < WorstMinSectors * o.WorstSectors);
        return this with
        {
            Requests = Requests + o.Requests, Wavefronts = Wavefronts + o.Wavefronts, Phases = Phases + o.Phases,
            WorstWays = Math.Max(WorstWays, o.WorstWays), Sectors = Sectors + o.Sectors, MinSectors = MinSectors + o.MinSectors,
            WorstSectors = worse ? o.WorstSectors : WorstSectors, WorstMinSectors = worse ? o.WorstMinSectors : WorstMinSectors,
        };
    }

    /// <summary>cuda_emu.h's emu::counters::SiteTotals.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct Native
    {
        public ulong Site;
        public int Shared;
        public int Store;
        public ulong Requests, Wavefronts, Ideal, WorstWays, Sectors, MinSectors, WorstSectors, WorstMin;

        public readonly MemoryAccessSite ToSite(string location) => new(
            Site, Shared != 0, Store != 0, (long)Requests, (long)Wavefronts, (long)Ideal, (int)WorstWays,
            (long)Sectors, (long)MinSectors, (long)WorstSectors, (long)WorstMin, location);
    }
}
