using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops.Reference;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

public class ArgmaxRefTests
{
    public static TheoryData<string> ArgmaxCasesData => new(ArgmaxCases.Names);

    [Fact]
    public void Argmax_PerRow_LowestIndexOnTies()
    {
        float[] logits =
        [
            1, 5, 5, 2,                       // tie between 1 and 2 -> 1
            -3, -1, -2, -1,                   // tie between 1 and 3 -> 1
            7, 7, 7, 7,                       // all equal -> 0
            float.NegativeInfinity, -1e30f, 0, 3,
        ];
        var ids = new int[4];
        ArgmaxRef.Argmax(logits, 4, ids);
        Assert.Equal([1, 1, 0, 3], ids);
    }

    [Theory]
    [MemberData(nameof(ArgmaxCasesData))]
    public void Argmax_Cases_PickTheFirstOfThePlantedTie(string name)
    {
        var c = ArgmaxCases.Get(name);
        var logits = c.Build();
        var ids = new int[c.Rows];
        ArgmaxRef.Argmax(logits, c.Vocab, ids);
        for (int r = 0; r < c.Rows; r++)
        {
            // Independent: the first column holding the row's maximum, found with LINQ over the row.
            var row = logits.Skip(r * c.Vocab).Take(c.Vocab).ToArray();
            Assert.Equal(Array.IndexOf(row, row.Max()), ids[r]);
        }
    }
}
