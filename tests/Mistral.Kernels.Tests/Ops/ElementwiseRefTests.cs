using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;
using Xunit;

namespace Mistral.Kernels.Tests.Ops;

public class ElementwiseRefTests
{
    public static TheoryData<int> ElementwiseCasesData => new(ElementwiseCases.Lengths);

    [Fact]
    public void AddScaleFill_HandChecked()
    {
        float[] a = [1, 2, 3];
        ElementwiseRef.Add(a, [10, 20, 30], a);   // y aliases a
        Assert.Equal([11f, 22f, 33f], a);
        ElementwiseRef.Scale(a, -0.5f);
        Assert.Equal([-5.5f, -11f, -16.5f], a);
        ElementwiseRef.Fill(a, 7f);
        Assert.Equal([7f, 7f, 7f], a);
    }

    [Fact]
    public void SumOfSquares_KeepsSmallTermsNextToLargeOnes()
    {
        // In fp32, 1e8 + 1 + 1 … would stay 1e8; fp64 keeps the 1000 ones.
        var x = new float[1001];
        x[0] = 1e4f;
        for (int i = 1; i < x.Length; i++) x[i] = 1f;
        Assert.Equal(1e8 + 1000, ElementwiseRef.SumOfSquares(x));
    }

    [Fact]
    public void RoundTo_Bf16AndF16_RoundToNearestEven()
    {
        float[] v = [1f + 1f / 256, 1f + 3f / 256];   // bf16 halfway cases (8 significand bits)
        ElementwiseRef.RoundTo(DType.BF16, v);
        Assert.Equal([1f, 1f + 1f / 64], v);
        float[] h = [1f + 1f / 2048, 65520f];          // f16 halfway to even (11 bits) -> 1; 65520 overflows to inf
        ElementwiseRef.RoundTo(DType.F16, h);
        Assert.Equal([1f, float.PositiveInfinity], h);
    }

    [Theory]
    [MemberData(nameof(ElementwiseCasesData))]
    public void AddScaleSumOfSquares_EveryLength(int length)
    {
        var (a, b) = ElementwiseCases.Build(length);
        var y = new float[length];
        ElementwiseRef.Add(a, b, y);
        for (int i = 0; i < length; i++) Assert.Equal(a[i] + b[i], y[i]);
        ElementwiseRef.Scale(y, 0.5f);
        for (int i = 0; i < length; i++) Assert.Equal((a[i] + b[i]) * 0.5f, y[i]);
        double expected = a.Sum(x => (double)x * x);   // same terms, LINQ order: only fp64 rounding differs
        Assert.Equal(expected, ElementwiseRef.SumOfSquares(a), expected * 1e-12);
    }
}
