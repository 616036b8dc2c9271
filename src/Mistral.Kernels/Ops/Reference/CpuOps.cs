using System.Runtime.InteropServices;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Reference;

/// <summary>
/// <see cref="IOps"/> over the reference loops: what <c>--device cpu</c> runs and what every other device is tested
/// against. All math is fp32; a tensor allocated as BF16/F16 keeps its values rounded to that dtype after every write,
/// so running with narrower storage emulates the GPU's precision choices. Validates every call (<see cref="OpChecks"/>).
/// </summary>
public sealed partial class CpuOps : IOps
{
    public string Name => "cpu";
    public DType ActivationDType => DType.F32;

    // ---- memory ---------------------------------------------------------------------------------------------------

    public Tensor Allocate(Shape shape, DType dtype) => new CpuTensor(shape, dtype);

    public Tensor Upload(ReadOnlySpan<byte> data, DType sourceDType, Shape shape, DType dtype)
    {
        const string op = "upload";
        long count = shape.ElementCount;
        OpChecks.That(data.Length == count * sourceDType.SizeOf(), op,
            $"{data.Length} bytes of {sourceDType} for shape {shape}, expected {count * sourceDType.SizeOf()}");
        var tensor = new CpuTensor(shape, dtype);
        if (sourceDType.IsFloat() && dtype.IsFloat())
        {
            FloatBits.ToSingle(data, sourceDType, tensor.Floats);
            tensor.RoundToStorage();
        }
        else if (sourceDType == DType.I32 && dtype == DType.I32)
        {
            MemoryMarshal.Cast<byte, int>(data).CopyTo(tensor.Ints);
        }
        else if (sourceDType == DType.I64 && dtype == DType.I32)
        {
            var wide = MemoryMarshal.Cast<byte, long>(data);
            var ints = tensor.Ints;
            for (int i = 0; i < ints.Length; i++)
            {
                OpChecks.That(wide[i] is >= int.MinValue and <= int.MaxValue, op, $"I64 value {wide[i]} at [{i}] does not fit I32");
                ints[i] = (int)wide[i];
            }
        }
        else
        {
            throw new ArgumentException($"{op}: cannot convert {sourceDType} data to a {dtype} tensor");
        }
        return tensor;
    }

    public Tensor Upload(ReadOnlySpan<float> data, Shape shape, DType dtype)
    {
        OpChecks.That(dtype.IsFloat(), "upload", $"float data cannot become a {dtype} tensor");
        OpChecks.That(data.Length == shape.ElementCount, "upload", $"{data.Length} floats for shape {shape}, expected {shape.ElementCount}");
        var tensor = new CpuTensor(shape, dtype);
        data.CopyTo(tensor.Floats);
        tensor.RoundToStorage();
        return tensor;
    }

    public Tensor Upload(ReadOnlySpan<int> data, Shape shape)
    {
        OpChecks.That(data.Length == shape.ElementCount, "upload", $"{data.Length} ints for shape {shape}, expected {shape.ElementCount}");
        var tensor = new CpuTensor(shape, DType.I32);
        data.CopyTo(tensor.Ints);
        return tensor;
    }

    public void Download(Tensor src, Span<float> dst)
    {
        var s = OpChecks.Float("download", "src", src);
        OpChecks.That(dst.Length == src.ElementCount, "download", $"destination holds {dst.Length} floats, src {src} has {src.ElementCount}");
        s.Floats.CopyTo(dst);
    }

    public void Download(Tensor src, Span<int> dst)
    {
        var s = OpChecks.Int("download", "src", src);
        OpChecks.That(dst.Length == src.ElementCount, "download", $"destination holds {dst.Length} ints, src {src} has {src.ElementCount}");
        s.Ints.CopyTo(dst);
    }

    public void Copy(Tensor src, Tensor dst)
    {
        const string op = "copy";
        OpChecks.Count(op, "dst", dst, src.ElementCount, $"the count of src {src.Shape}");
        if (src.DType == DType.I32 && dst.DType == DType.I32)
        {
            OpChecks.Int(op, "src", src).Ints.CopyTo(OpChecks.Int(op, "dst", dst).Ints);
            return;
        }
        var d = OpChecks.Float(op, "dst", dst);
        if (src.DType == DType.I32)
        {
            var ints = OpChecks.Int(op, "src", src).Ints;
            var floats = d.Floats;
            for (int i = 0; i < ints.Length; i++) floats[i] = ints[i];
        }
        else
        {
            OpChecks.Float(op, "src", src).Floats.CopyTo(d.Floats);
        }
        d.RoundToStorage();
    }

    public void Fill(Tensor dst, float value)
    {
        if (dst.DType == DType.I32)
        {
            OpChecks.That(value == MathF.Round(value), "fill", $"{value} is not an integer, dst {dst} is I32");
            OpChecks.Int("fill", "dst", dst).Ints.Fill((int)value);
            return;
        }
        var d = OpChecks.Float("fill", "dst", dst);
        ElementwiseRef.Fill(d.Floats, value);
        d.RoundToStorage();
    }

    // ---- forward ops ----------------------------------------------------------------------------------------------

    public void EmbeddingForward(Tensor tokens, Tensor table, Tensor y)
    {
        const string op = "embedding_forward";
        var ids = OpChecks.Int(op, "tokens", tokens);
        var tab = OpChecks.Float(op, "table", table);
        var output = OpChecks.Float(op, "y", y);
        OpChecks.That(table.Shape.Rank == 2, op, $"table {table.Shape} must be [V, D]");
        int vocab = table.Shape[0], dim = table.Shape[1];
        OpChecks.Count(op, "y", y, OpChecks.Elements((int)tokens.ElementCount, dim), $"[{tokens.ElementCount}, {dim}] (tokens × table dim)");
        CheckTokenIds(op, ids.Ints, vocab);
        EmbeddingRef.Forward(ids.Ints, tab.Floats, dim, output.Floats);
        output.RoundToStorage();
    }

    public void RmsNormForward(Tensor x, Tensor weight, float eps, Tensor y, Tensor? rstd)
    {
        const string op = "rmsnorm_forward";
        var (input, w, output) = (OpChecks.Float(op, "x", x), OpChecks.Float(op, "weight", weight), OpChecks.Float(op, "y", y));
        var saved = OpChecks.OptionalF32(op, "rstd", rstd);
        CheckRmsNormShapes(op, x, weight);
        OpChecks.SameShape(op, "y", y, "x", x);
        if (rstd is not null) OpChecks.Count(op, "rstd", rstd, x.Shape.Rows, $"[{x.Shape.Rows}] (one per row of x {x.Shape})");
        RmsNormRef.Forward(input.Floats, w.Floats, eps, output.Floats, saved is null ? [] : saved.Floats);
        output.RoundToStorage();
    }

    public void LayerNormForward(Tensor x, Tensor weight, Tensor bias, float eps, Tensor y, Tensor? mean, Tensor? rstd)
    {
        const string op = "layernorm_forward";
        var (input, w, b, output) = (OpChecks.Float(op, "x", x), OpChecks.Float(op, "weight", weight), OpChecks.Float(op, "bias", bias), OpChecks.Float(op, "y", y));
        var (savedMean, savedRstd) = (OpChecks.OptionalF32(op, "mean", mean), OpChecks.OptionalF32(op, "rstd", rstd));
        CheckRowVector(op, x, "weight", weight);
        CheckRowVector(op, x, "bias", bias);
        OpChecks.SameShape(op, "y", y, "x", x);
        OpChecks.That((mean is null) == (rstd is null), op, "mean and rstd are saved together; give both or neither");
        if (mean is not null) CheckRowStatistic(op, "mean", mean, x);
        if (rstd is not null) CheckRowStatistic(op, "rstd", rstd, x);
        LayerNormRef.Forward(input.Floats, w.Floats, b.Floats, eps, output.Floats, savedMean is null ? [] : savedMean.Floats, savedRstd is null ? [] : savedRstd.Floats);
        output.RoundToStorage();
    }

    public void GeluForward(Tensor x, GeluApproximation approximation, Tensor y)
    {
        const string op = "gelu_forward";
        var (input, output) = (OpChecks.Float(op, "x", x), OpChecks.Float(op, "y", y));
        OpChecks.SameShape(op, "y", y, "x", x);
        GeluRef.Forward(input.Floats, approximation, output.Floats);
        output.RoundToStorage();
    }

    public void BiasAdd(Tensor x, Tensor bias, Tensor y)
    {
        const string op = "bias_add";
        var (input, b, output) = (OpChecks.Float(op, "x", x), OpChecks.Float(op, "bias", bias), OpChecks.Float(op, "y", y));
        CheckRowVector(op, x, "bias", bias);
        OpChecks.SameShape(op, "y", y, "x", x);
        BiasRef.Add(input.Floats, b.Floats, output.Floats);
        output.RoundToStorage();
    }

    public void Gemm(Tensor a, bool transposeA, Tensor b, bool transposeB, float alpha, float beta, Tensor c)
    {
        const string op = "gemm";
        var (ma, mb, mc) = (OpChecks.Float(op, "a", a), OpChecks.Float(op, "b", b), OpChecks.Float(op, "c", c));
        OpChecks.That(!ReferenceEquals(c, a) && !ReferenceEquals(c, b), op, "c must not be a or b");
        // Every operand is seen as a matrix [product of leading dims, last dim].
        int m = transposeA ? a.Shape[-1] : a.Shape.Rows, k = transposeA ? a.Shape.Rows : a.Shape[-1];
        int kb = transposeB ? b.Shape[-1] : b.Shape.Rows, n = transposeB ? b.Shape.Rows : b.Shape[-1];
        string shapes = $"op(a) = a{a.Shape}{(transposeA ? "ᵀ" : "")}, op(b) = b{b.Shape}{(transposeB ? "ᵀ" : "")}, c{c.Shape}";
        OpChecks.That(k == kb, op, $"inner dimensions differ ({k} vs {kb}): {shapes}");
        OpChecks.That(c.Shape.Rows == m && c.Shape[-1] == n, op, $"c must be [{m}, {n}]: {shapes}");
        GemmRef.Gemm(ma.FloatArray, transposeA, mb.FloatArray, transposeB, m, n, k, alpha, beta, mc.FloatArray);
        mc.RoundToStorage();
    }

    public void RopeForward(Tensor x, Tensor positions, int headDim, float theta, Tensor y)
    {
        const string op = "rope_forward";
        var (input, pos, output) = (OpChecks.Float(op, "x", x), OpChecks.Int(op, "positions", positions), OpChecks.Float(op, "y", y));
        CheckRopeShapes(op, x, positions, headDim, y, pos.Ints);
        RopeRef.Forward(input.Floats, pos.Ints, headDim, theta, output.Floats);
        output.RoundToStorage();
    }

    public void AttentionForward(Tensor q, Tensor k, Tensor v, AttentionBatch batch, AttentionConfig config, KvCacheLayer? cache, Tensor y, Tensor? lse)
    {
        const string op = "attention_forward";
        var (mq, mk, mv, my) = (OpChecks.Float(op, "q", q), OpChecks.Float(op, "k", k), OpChecks.Float(op, "v", v), OpChecks.Float(op, "y", y));
        var saved = OpChecks.OptionalF32(op, "lse", lse);
        CheckAttentionShapes(op, q, k, v, batch, config);
        OpChecks.SameShape(op, "y", y, "q", q);
        if (lse is not null) OpChecks.Count(op, "lse", lse, OpChecks.Elements(config.NHeads, batch.TotalTokens), $"[{config.NHeads}, {batch.TotalTokens}] (heads × tokens)");
        var cacheSpans = new KvCacheSpans([], [], 0);
        if (cache is not null)
        {
            var (keys, values) = CheckCache(op, cache, batch, config.NKvHeads * config.HeadDim);
            cacheSpans = new KvCacheSpans(keys.Floats, values.Floats, cache.Slots);
        }
        AttentionRef.Forward(mq.Floats, mk.Floats, mv.Floats, batch, config, cacheSpans, my.Floats, saved is null ? [] : saved.Floats);
        my.RoundToStorage();
    }

    public void KvCacheAppend(Tensor k, Tensor v, AttentionBatch batch, KvCacheLayer cache)
    {
        const string op = "kv_cache_append";
        var (mk, mv) = (OpChecks.Float(op, "k", k), OpChecks.Float(op, "v", v));
        OpChecks.SameShape(op, "v", v, "k", k);
        OpChecks.That(batch.TotalTokens > 0 && k.ElementCount % batch.TotalTokens == 0, op, $"k {k.Shape} is not [{batch.TotalTokens}, Hkv·Dh]");
        int kvWidth = (int)(k.ElementCount / Math.Max(1, batch.TotalTokens));
        var (keys, values) = CheckCache(op, cache, batch, kvWidth);
        KvCacheRef.Append(mk.Floats, mv.Floats, batch, kvWidth, cache.Slots, keys.Floats, values.Floats);
        keys.RoundToStorage();
        values.RoundToStorage();
    }

    public void SwiGluForward(Tensor gate, Tensor up, Tensor y)
    {
        const string op = "swiglu_forward";
        var (g, u, output) = (OpChecks.Float(op, "gate", gate), OpChecks.Float(op, "up", up), OpChecks.Float(op, "y", y));
        OpChecks.SameShape(op, "up", up, "gate", gate);
        OpChecks.SameShape(op, "y", y, "gate", gate);
        SwiGluRef.Forward(g.Floats, u.Floats, output.Floats);
        output.RoundToStorage();
    }

    public void Add(Tensor a, Tensor b, Tensor y)
    {
        const string op = "add";
        var (ma, mb, my) = (OpChecks.Float(op, "a", a), OpChecks.Float(op, "b", b), OpChecks.Float(op, "y", y));
        OpChecks.SameShape(op, "b", b, "a", a);
        OpChecks.SameShape(op, "y", y, "a", a);
        ElementwiseRef.Add(ma.Floats, mb.Floats, my.Floats);
        my.RoundToStorage();
    }

    public void Scale(Tensor x, float alpha)
    {
        var mx = OpChecks.Float("scale", "x", x);
        ElementwiseRef.Scale(mx.Floats, alpha);
        mx.RoundToStorage();
    }

    public void Argmax(Tensor logits, Tensor ids)
    {
        const string op = "argmax";
        var (ml, mi) = (OpChecks.Float(op, "logits", logits), OpChecks.Int(op, "ids", ids));
        OpChecks.That(logits.Shape.Rank >= 1 && logits.Shape[-1] > 0, op, $"logits {logits.Shape} must be [R, V] with V > 0");
        OpChecks.Count(op, "ids", ids, logits.Shape.Rows, $"[{logits.Shape.Rows}] (one per row of logits {logits.Shape})");
        ArgmaxRef.Argmax(ml.Floats, logits.Shape[-1], mi.Ints);
    }

    public void Dispose() { }
}
