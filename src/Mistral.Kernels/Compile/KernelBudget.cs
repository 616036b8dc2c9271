using System.Globalization;
using System.Text.RegularExpressions;

namespace Mistral.Kernels.Compile;

/// <summary>
/// The resources an entry point may use on sm_90, written in its .cu file as
/// <c>// budget NAME_OR_GLOB: regs&lt;=N smem&lt;=BYTES [stack&lt;=BYTES] [spill&lt;=BYTES]</c> (stack and spill default
/// to 0). Checked against ptxas's report by the compile tests, so a change that spills or needs more registers than
/// its budget fails CI. Registers are rounded up to the allocation granule of 8 per thread when budgets are set.
/// </summary>
public sealed partial record KernelBudget(string Pattern, int Registers, int SharedBytes, int StackBytes, int SpillBytes)
{
    /// <summary>Static __shared__ per block on every CUDA architecture; beyond it only dynamic shared memory, opted in.</summary>
    public const int MaxStaticShared = 48 * 1024;

    /// <summary>The budget lines of a kernel file, in order.</summary>
    public static IReadOnlyList<KernelBudget> Parse(string text)
    {
        var budgets = new List<KernelBudget>();
        foreach (Match m in BudgetLine().Matches(text))
        {
            var limits = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (Match limit in Limit().Matches(m.Groups[2].Value))
                limits[limit.Groups[1].Value] = int.Parse(limit.Groups[2].Value, CultureInfo.InvariantCulture);
            if (!limits.ContainsKey("regs") || !limits.ContainsKey("smem"))
                throw new FormatException($"budget line for {m.Groups[1].Value} needs regs<= and smem<=: {m.Value.Trim()}");
            if (limits["smem"] > MaxStaticShared)
                throw new FormatException($"budget line for {m.Groups[1].Value}: static shared memory is limited to 48 KiB per block ({MaxStaticShared} bytes); more must be dynamic");
            budgets.Add(new KernelBudget(m.Groups[1].Value, limits["regs"], limits["smem"],
                limits.GetValueOrDefault("stack"), limits.GetValueOrDefault("spill")));
        }
        return budgets;
    }

    /// <summary>True if <paramref name="kernel"/> matches the pattern ('*' stands for any run of characters).</summary>
    public bool Matches(string kernel) =>
        Regex.IsMatch(kernel, "^" + Regex.Escape(Pattern).Replace(@"\*", ".*", StringComparison.Ordinal) + "$");

    /// <summary>What <paramref name="used"/> exceeds, one line each; empty when within budget.</summary>
    public IReadOnlyList<string> Violations(KernelResources used)
    {
        var over = new List<string>();
        if (used.Registers > Registers) over.Add($"{used.Kernel}: {used.Registers} registers > budget {Registers}");
        if (used.SharedBytes > SharedBytes) over.Add($"{used.Kernel}: {used.SharedBytes} bytes static shared > budget {SharedBytes}");
        if (used.StackBytes > StackBytes) over.Add($"{used.Kernel}: {used.StackBytes} bytes stack frame > budget {StackBytes}");
        int spilled = Math.Max(used.SpillStoreBytes, used.SpillLoadBytes);
        if (spilled > SpillBytes) over.Add($"{used.Kernel}: {used.SpillStoreBytes}/{used.SpillLoadBytes} bytes spilled > budget {SpillBytes}");
        return over;
    }

    [GeneratedRegex(@"^[ \t]*//[ \t]*budget[ \t]+([\w*]+)[ \t]*:([^\n]*)", RegexOptions.Multiline)]
    private static partial Regex BudgetLine();

    [GeneratedRegex(@"(regs|smem|stack|spill)\s*<=\s*(\d+)")]
    private static partial Regex Limit();
}
