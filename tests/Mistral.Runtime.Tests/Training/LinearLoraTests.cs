using Mistral.Kernels.Checks.Cases;
using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Reference;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Modules;
using Mistral.Runtime.Numerics;
using Mistral.Runtime.Training;
using Mistral.Runtime.Training.Lora;
using Mistral.Testing;
using Xunit;

namespace Mistral.Runtime.Tests.Training;

/// <summary>The LoRA branch of the Linear module: its backward against central finite differences of L = Σ y ⊙ G (so dY = G).</summary>
public sealed class LinearLoraTests
{
    private const int T = 5, In = 7, Out = 6, Rank = 3;
    private const float Scaling = 2f;
    // L is linear in each of x, A and B, so a central difference is exact up to fp32 rounding of L (|L| ~ 10,
    // ulp ~ 1e-6, divided by 2·eps = 2e-2): 1e-3 leaves a wide margin and still catches any wrong term.
    private const double FiniteDifferenceTolerance = 1e-3;
    private const float Eps = 1e-2f;

    private readonly CpuOps _ops = new();
    private readonly float[] _x, _w, _a, _b, _g;

    public LinearLoraTests()
    {
        var rnd = new CaseRandom(17);
        (_x, _w, _a, _b, _g) = (rnd.Normal(T * In), rnd.Normal(Out * In, 0.3f), rnd.Normal(Rank * In, 0.3f), rnd.Normal(Out * Rank, 0.3f), rnd.Normal(T * Out));
    }

    private LoraAdapter Adapter(float[] a, float[] b) => new("m",
        new TrainableParameter("a", _ops.Upload(a, new Shape(Rank, In), DType.F32), _ops.Allocate(new Shape(Rank, In), DType.F32)),
        new TrainableParameter("b", _ops.Upload(b, new Shape(Out, Rank), DType.F32), _ops.Allocate(new Shape(Out, Rank), DType.F32)),
        Scaling);

    /// <summary>One <see cref="Linear"/> module "m" with the adapter, run on the tape as a model's training forward runs it.</summary>
    private static void LoraForward(Tape tape, Tensor x, Tensor w, LoraAdapter adapter, float dropout, Xoshiro256StarStar? rng, Tensor y)
    {
        var train = new TrainingPass(tape, new LoraAdapters([adapter]), new Dictionary<string, TrainableParameter>(), dropout, rng);
        new Linear("m", w).Forward(new ForwardPass(train), x, y);
    }

    private double Loss(float[] x, float[] a, float[] b)
    {
        using var tape = new Tape(_ops);
        var xt = tape.NewActivation(T, In);
        using (var up = _ops.Upload(x, new Shape(T, In), DType.F32)) _ops.Copy(up, xt);
        using var w = _ops.Upload(_w, new Shape(Out, In), DType.F32);
        var y = tape.NewActivation(T, Out);
        LoraForward(tape, xt, w, Adapter(a, b), 0f, null, y);
        var host = new float[T * Out];
        _ops.Download(y, host);
        return host.Select((v, i) => (double)v * _g[i]).Sum();
    }

    private static float[] Numeric(float[] p, Func<float[], double> loss)
    {
        var grad = new float[p.Length];
        for (int i = 0; i < p.Length; i++)
        {
            var plus = (float[])p.Clone();
            var minus = (float[])p.Clone();
            plus[i] += Eps;
            minus[i] -= Eps;
            grad[i] = (float)((loss(plus) - loss(minus)) / (2 * Eps));
        }
        return grad;
    }

    [Fact]
    public void Backward_GradientsOfXAAndB_MatchFiniteDifferences()
    {
        using var tape = new Tape(_ops);
        var x = tape.NewActivation(T, In);
        using (var up = _ops.Upload(_x, new Shape(T, In), DType.F32)) _ops.Copy(up, x);
        using var w = _ops.Upload(_w, new Shape(Out, In), DType.F32);
        var adapter = Adapter(_a, _b);
        var y = tape.NewActivation(T, Out);
        LoraForward(tape, x, w, adapter, 0f, null, y);
        tape.Backward(y, _ops.Upload(_g, new Shape(T, Out), DType.F32));

        float[] Get(Tensor t)
        {
            var h = new float[t.ElementCount];
            _ops.Download(t, h);
            return h;
        }
        TensorAssert.Close(Numeric(_x, x2 => Loss(x2, _a, _b)), Get(tape.GradOf(x)!), FiniteDifferenceTolerance, what: "dx");
        TensorAssert.Close(Numeric(_a, a2 => Loss(_x, a2, _b)), Get(adapter.A.Grad), FiniteDifferenceTolerance, what: "dA");
        TensorAssert.Close(Numeric(_b, b2 => Loss(_x, _a, b2)), Get(adapter.B.Grad), FiniteDifferenceTolerance, what: "dB");
    }

    [Fact]
    public void Forward_IsBasePlusScaledLowRankProduct()
    {
        using var tape = new Tape(_ops);
        using var x = _ops.Upload(_x, new Shape(T, In), DType.F32);
        using var w = _ops.Upload(_w, new Shape(Out, In), DType.F32);
        var y = tape.NewActivation(T, Out);
        LoraForward(tape, x, w, Adapter(_a, _b), 0f, null, y);
        var actual = new float[T * Out];
        _ops.Download(y, actual);
        var expected = new float[T * Out];
        for (int t = 0; t < T; t++)
            for (int o = 0; o < Out; o++)
            {
                double acc = 0;
                for (int i = 0; i < In; i++) acc += (double)_x[t * In + i] * _w[o * In + i];
                for (int r = 0; r < Rank; r++)
                {
                    double u = 0;
                    for (int i = 0; i < In; i++) u += (double)_x[t * In + i] * _a[r * In + i];
                    acc += Scaling * u * _b[o * Rank + r];
                }
                expected[t * Out + o] = (float)acc;
            }
        TensorAssert.Close(expected, actual, 1e-5, what: "y");
    }

    [Fact]
    public void Dropout_ZeroesAboutTheRateAndKeepsTheExpectation()
    {
        // With B = I-like ones and A = identity rows the LoRA branch passes dropout(x) through; compare means.
        using var tape = new Tape(_ops);
        const int rows = 2000;
        var ones = Enumerable.Repeat(1f, rows * In).ToArray();
        using var x = _ops.Upload(ones, new Shape(rows, In), DType.F32);
        using var w = _ops.Allocate(new Shape(Out, In), DType.F32);
        var a = new float[Rank * In];
        a[0] = 1f; // u[:, 0] = dropout(x)[:, 0]
        var b = new float[Out * Rank];
        b[0] = 1f; // y[:, 0] = s · u[:, 0]
        var y = tape.NewActivation(rows, Out);
        LoraForward(tape, x, w, Adapter(a, b), 0.25f, Xoshiro256StarStar.ForStream(3, 0), y);
        var host = new float[rows * Out];
        _ops.Download(y, host);
        var col = Enumerable.Range(0, rows).Select(r => host[r * Out]).ToArray();
        double zeroShare = col.Count(v => v == 0) / (double)rows;
        Assert.InRange(zeroShare, 0.2, 0.3);
        Assert.All(col.Where(v => v != 0), v => Assert.Equal(Scaling / 0.75f, v, 5));
    }
}
