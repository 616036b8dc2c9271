namespace Mistral.Kernels.Device.Emulation;

/// <summary>
/// One kernel's memory-access counters over every launch since the last reset: per load/store instruction
/// (<see cref="Sites"/>) and in total. Shared memory: warp requests, average and worst bank-conflict ways; global
/// memory: requests, 32-byte sectors per request and how fully they are used.
/// </summary>
public sealed class KernelMemoryCounters
{
    internal KernelMemoryCounters(string kernel, IReadOnlyList<MemoryAccessSite> sites)
    {
        Kernel = kernel;
        Sites = sites;
    }

    public string Kernel { get; }

    /// <summary>Every instruction that touched shared or global memory, most requests first.</summary>
    public IReadOnlyList<MemoryAccessSite> Sites { get; }

    public IEnumerable<MemoryAccessSite> SharedSites => Sites.Where(s => s.Shared);
    public IEnumerable<MemoryAccessSite> GlobalSites => Sites.Where(s => !s.Shared);

    public long SharedRequests => SharedSites.Sum(s => s.Requests);

    /// <summary>Wavefronts per ideal wavefront over every shared access (1 = conflict-free).</summary>
    public double SharedAverageWays => SharedSites.Sum(s => s.Phases) is var p and > 0 ? (double)SharedSites.Sum(s => s.Wavefronts) / p : 1;

    public int SharedWorstWays => SharedSites.Select(s => s.WorstWays).DefaultIfEmpty(1).Max();

    public long GlobalRequests => GlobalSites.Sum(s => s.Requests);

    public double SectorsPerRequest => GlobalRequests == 0 ? 0 : (double)GlobalSites.Sum(s => s.Sectors) / GlobalRequests;

    /// <summary>Minimum sectors over sectors touched, over every global access (1 = every sector fully used).</summary>
    public double SectorEfficiency => GlobalSites.Sum(s => s.Sectors) is var n and > 0 ? (double)GlobalSites.Sum(s => s.MinSectors) / n : 1;

    /// <summary>The share of a kernel's cost (in one memory space) from which a site counts as hot.</summary>
    public const double HotShare = 0.10;

    /// <summary>The sites that carry at least <paramref name="share"/> of the kernel's cost in their memory space
    /// (shared: wavefronts; global: sectors): its hot loops. A row's tail, a prologue, a reduction's last steps fall
    /// below; a conflicted store that runs once per tile does not, since its conflicts are its cost.</summary>
    public IEnumerable<MemoryAccessSite> Hot(double share = HotShare)
    {
        long wavefronts = SharedSites.Sum(s => s.Wavefronts), sectors = GlobalSites.Sum(s => s.Sectors);
        return Sites.Where(s => s.Shared ? s.Wavefronts >= share * wavefronts : s.Sectors >= share * sectors);
    }
}
