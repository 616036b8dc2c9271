using Mistral.Kernels.Device.Emulation;

namespace Mistral.Cli.Commands;

/// <summary>
/// `selftest --counters`' table: per kernel, its shared-memory warp requests with average and worst bank-conflict
/// ways, its global requests with 32-byte sectors per request and sector efficiency (minimum sectors over sectors
/// touched); under it, one line per hot site (≥ 10% of the kernel's requests in that memory: its hot loops).
/// </summary>
internal static class MemoryCountersTable
{
    public static void Print(MemoryAccessCounters counters, TextWriter o)
    {
        o.WriteLine();
        o.WriteLine("memory accesses per warp instruction (emulator counters build; kernels/README.md \"Memory-access counters\")");
        o.WriteLine($"{"kernel",-44} {"shared req",11} {"avg ways",8} {"worst",5} {"global req",11} {"sect/req",8} {"effic",6}");
        foreach (var k in counters.Kernels)
        {
            o.WriteLine($"{k.Kernel,-44} {k.SharedRequests,11} {k.SharedAverageWays,8:0.00} {k.SharedWorstWays,5} {k.GlobalRequests,11} {k.SectorsPerRequest,8:0.00} {k.SectorEfficiency,6:P0}");
            foreach (var site in k.Hot())
                o.WriteLine(site.Shared
                    ? $"    {site.Kind,-13} {site.Requests,11} req {site.AverageWays,6:0.00} avg ways {site.WorstWays,2} worst  {site.Location}"
                    : $"    {site.Kind,-13} {site.Requests,11} req {site.SectorsPerRequest,6:0.00} sect/req {site.SectorEfficiency,6:P0} (worst {site.WorstEfficiency:P0})  {site.Location}");
        }
    }
}
