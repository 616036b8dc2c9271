namespace Mistral.Kernels.Device.Emulation;

/// <summary>
/// What the counters build of the emulated device (<see cref="EmulatedDeviceOptions.CountMemoryAccesses"/>) saw,
/// per kernel, since the last <see cref="Reset"/>: each launch's per-instruction totals are added under the kernel's
/// name. Thread-safe.
/// </summary>
public sealed class MemoryAccessCounters
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Dictionary<(ulong, bool, bool), MemoryAccessSite>> _kernels = new(StringComparer.Ordinal);

    /// <summary>Every kernel launched since the last reset, by name.</summary>
    public IReadOnlyList<KernelMemoryCounters> Kernels
    {
        get
        {
            lock (_gate) return _kernels.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => Snapshot(k.Key, k.Value)).ToList();
        }
    }

    /// <summary>The kernel's counters; all zero when it has not run since the last reset.</summary>
    public KernelMemoryCounters For(string kernel)
    {
        lock (_gate) return Snapshot(kernel, _kernels.GetValueOrDefault(kernel) ?? []);
    }

    public void Reset()
    {
        lock (_gate) _kernels.Clear();
    }

    internal void Add(string kernel, IEnumerable<MemoryAccessSite> sites)
    {
        lock (_gate)
        {
            if (!_kernels.TryGetValue(kernel, out var known)) _kernels[kernel] = known = new();
            foreach (var site in sites)
            {
                var key = (site.Offset, site.Shared, site.Store);
                known[key] = known.TryGetValue(key, out var before) ? before.Plus(site) : site;
            }
        }
    }

    private static KernelMemoryCounters Snapshot(string kernel, Dictionary<(ulong, bool, bool), MemoryAccessSite> sites) =>
        new(kernel, sites.Values.OrderByDescending(s => s.Requests).ThenBy(s => s.Offset).ToList());
}
