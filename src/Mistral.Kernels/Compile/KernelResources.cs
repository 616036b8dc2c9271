using System.Globalization;
using System.Text.RegularExpressions;

namespace Mistral.Kernels.Compile;

/// <summary>
/// What ptxas reports for one entry point (NVRTC with <c>-Xptxas -v</c> and an sm_ target writes it to the program
/// log; no GPU needed): registers per thread, static shared memory, and local memory as stack frame and spills.
/// </summary>
public sealed partial record KernelResources(string Kernel, int Registers, int SharedBytes, int StackBytes, int SpillStoreBytes, int SpillLoadBytes)
{
    /// <summary>NVRTC options that make ptxas write the report into the program log.</summary>
    public static readonly IReadOnlyList<string> ReportOptions = ["-Xptxas", "-v"];

    /// <summary>Every entry point's report in a ptxas verbose log, in the order ptxas compiled them.</summary>
    public static IReadOnlyList<KernelResources> Parse(string log)
    {
        var results = new List<KernelResources>();
        string? kernel = null;
        int stack = 0, spillStores = 0, spillLoads = 0;
        foreach (var line in log.Split('\n'))
        {
            if (EntryLine().Match(line) is { Success: true } entry)
            {
                kernel = entry.Groups[1].Value;
                stack = spillStores = spillLoads = 0;
            }
            else if (kernel is not null && FrameLine().Match(line) is { Success: true } frame)
            {
                (stack, spillStores, spillLoads) = (Int(frame.Groups[1]), Int(frame.Groups[2]), Int(frame.Groups[3]));
            }
            else if (kernel is not null && UsedLine().Match(line) is { Success: true } used)
            {
                int shared = SharedPart().Match(used.Groups[2].Value) is { Success: true } s ? Int(s.Groups[1]) : 0;
                results.Add(new KernelResources(kernel, Int(used.Groups[1]), shared, stack, spillStores, spillLoads));
                kernel = null;
            }
        }
        return results;
    }

    private static int Int(Group g) => int.Parse(g.Value, CultureInfo.InvariantCulture);

    public override string ToString() =>
        $"{Kernel}: {Registers} registers, {SharedBytes} bytes static shared, {StackBytes} bytes stack, {SpillStoreBytes}/{SpillLoadBytes} bytes spilled (stores/loads)";

    [GeneratedRegex(@"Compiling entry function '(\w+)'")]
    private static partial Regex EntryLine();

    [GeneratedRegex(@"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")]
    private static partial Regex FrameLine();

    [GeneratedRegex(@"Used (\d+) registers(.*)")]
    private static partial Regex UsedLine();

    [GeneratedRegex(@"(\d+) bytes smem")]
    private static partial Regex SharedPart();
}
