using System.Runtime.InteropServices;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Reference;

/// <summary>
/// <see cref="IOps"/> over the reference loops: what <c>--device cpu</c> runs and what every other device is tested
/// against. All math is fp32; a tensor allocated as BF16/F16 keeps its values rounded to that dtype after every write,
/// so running with narrower storage emulates the GPU's precision choices. Every call is validated by <see cref="OpContract"/>.
/// </summary>
public sealed partial class CpuOps : IOps
{
    public string Name => "cpu";
    public DType ActivationDType => DType.F32;

    /// <summary>Tensors live in host memory: nothing to keep on a device.</summary>
    public IDeviceOps? OnDevice => null;

    // ---- memory ---------------------------------------------------------------------------------------------------

    public Tensor Allocate(Shape shape, DType dtype) => new CpuTensor(shape, dtype);

    public Tensor Upload(ReadOnlySpan<byte> data, DType sourceDType, Shape shape, DType dtype)
    {
        OpContract.UploadBytes(data.Length, sourceDType, shape, dtype);
        var tensor = new CpuTensor(shape, dtype);
        if (dtype.IsFloat())
        {
            FloatBits.ToSingle(data, sourceDType, tensor.Floats);
            tensor.RoundToStorage();
        }
        else if (sourceDType == DType.I32)
            MemoryMarshal.Cast<byte, int>(data).CopyTo(tensor.Ints);
        else
            OpContract.NarrowToInt32(MemoryMarshal.Cast<byte, long>(data), tensor.Ints);
        return tensor;
    }

    public Tensor Upload(ReadOnlySpan<float> data, Shape shape, DType dtype)
    {
        OpContract.UploadValues(data.Length, DType.F32, shape, dtype);
        var tensor = new CpuTensor(shape, dtype);
        data.CopyTo(tensor.Floats);
        tensor.RoundToStorage();
        return tensor;
    }

    public Tensor Upload(ReadOnlySpan<int> data, Shape shape)
    {
        OpContract.UploadValues(data.Length, DType.I32, shape, DType.I32);
        var tensor = new CpuTensor(shape, DType.I32);
        data.CopyTo(tensor.Ints);
        return tensor;
    }

    public void Download(Tensor src, Span<float> dst)
    {
        var s = Host("download", "src", src);
        OpContract.Download(src, dst.Length, DType.F32);
        s.Floats.CopyTo(dst);
    }

    public void Download(Tensor src, Span<int> dst)
    {
        var s = Host("download", "src", src);
        OpContract.Download(src, dst.Length, DType.I32);
        s.Ints.CopyTo(dst);
    }

    public void Copy(Tensor src, Tensor dst)
    {
        var (s, d) = (Host("copy", "src", src), Host("copy", "dst", dst));
        OpContract.Copy(src, dst);
        if (d.DType == DType.I32)
        {
            OpContract.Int("copy", "src", src);
            s.Ints.CopyTo(d.Ints);
            return;
        }
        if (s.DType == DType.I32)
        {
            var ints = s.Ints;
            var floats = d.Floats;
            for (int i = 0; i < ints.Length; i++) floats[i] = ints[i];
        }
        else
        {
            s.Floats.CopyTo(d.Floats);
        }
        d.RoundToStorage();
    }

    public void Fill(Tensor dst, float value)
    {
        var d = Host("fill", "dst", dst);
        OpContract.Fill(dst, value);
        if (d.DType == DType.I32)
        {
            d.Ints.Fill((int)value);
            return;
        }
        ElementwiseRef.Fill(d.Floats, value);
        d.RoundToStorage();
    }

    // ---- forward ops ----------------------------------------------------------------------------------------------

    public void EmbeddingForward(Tensor tokens, Tensor table, Tensor y)
    {
        const string op = "embedding_forward";
        var (ids, tab, output) = (Host(op, "tokens", tokens), Host(op, "table", table), Host(op, "y", y));
        OpContract.Embedding(op, tokens, table, "table", y, "y");
        OpContract.TokenIds(op, ids.Ints, table.Shape[0]);
        EmbeddingRef.Forward(ids.Ints, tab.Floats, table.Shape[1], output.Floats);
        output.RoundToStorage();
    }

    public void RmsNormForward(Tensor x, Tensor weight, float eps, Tensor y, Tensor? rstd)
    {
        const string op = "rmsnorm_forward";
        var (input, w, output) = (Host(op, "x", x), Host(op, "weight", weight), Host(op, "y", y));
        var saved = rstd is null ? null : Host(op, "rstd", rstd);
        OpContract.RmsNormForward(op, x, weight, y, rstd);
        RmsNormRef.Forward(input.Floats, w.Floats, eps, output.Floats, saved is null ? [] : saved.Floats);
        output.RoundToStorage();
    }

    public void LayerNormForward(Tensor x, Tensor weight, Tensor bias, float eps, Tensor y, Tensor? mean, Tensor? rstd)
    {
        const string op = "layernorm_forward";
        var (input, w, b, output) = (Host(op, "x", x), Host(op, "weight", weight), Host(op, "bias", bias), Host(op, "y", y));
        var (savedMean, savedRstd) = (mean is null ? null : Host(op, "mean", mean), rstd is null ? null : Host(op, "rstd", rstd));
        OpContract.LayerNormForward(op, x, weight, bias, y, mean, rstd);
        LayerNormRef.Forward(input.Floats, w.Floats, b.Floats, eps, output.Floats, savedMean is null ? [] : savedMean.Floats, savedRstd is null ? [] : savedRstd.Floats);
        output.RoundToStorage();
    }

    public void GeluForward(Tensor x, GeluApproximation approximation, Tensor y)
    {
        const string op = "gelu_forward";
        var (input, output) = (Host(op, "x", x), Host(op, "y", y));
        OpContract.Gelu(op, x, ("y", y));
        GeluRef.Forward(input.Floats, approximation, output.Floats);
        output.RoundToStorage();
    }

    public void BiasAdd(Tensor x, Tensor bias, Tensor y)
    {
        const string op = "bias_add";
        var (input, b, output) = (Host(op, "x", x), Host(op, "bias", bias), Host(op, "y", y));
        OpContract.BiasAdd(op, x, bias, y);
        BiasRef.Add(input.Floats, b.Floats, output.Floats);
        output.RoundToStorage();
    }

    public void Gemm(Tensor a, bool transposeA, Tensor b, bool transposeB, float alpha, float beta, Tensor c)
    {
        const string op = "gemm";
        var (ma, mb, mc) = (Host(op, "a", a), Host(op, "b", b), Host(op, "c", c));
        var (m, n, k) = OpContract.Gemm(op, a, transposeA, b, transposeB, c);
        GemmRef.Gemm(ma.FloatArray, transposeA, mb.FloatArray, transposeB, m, n, k, alpha, beta, mc.FloatArray);
        mc.RoundToStorage();
    }

    public void RopeForward(Tensor x, Tensor positions, int headDim, float theta, Tensor y)
    {
        const string op = "rope_forward";
        var (input, pos, output) = (Host(op, "x", x), Host(op, "positions", positions), Host(op, "y", y));
        OpContract.Rope(op, x, "x", positions, headDim, y, "y");
        OpContract.Positions(op, pos.Ints);
        RopeRef.Forward(input.Floats, pos.Ints, headDim, theta, output.Floats);
        output.RoundToStorage();
    }

    public void AttentionForward(Tensor q, Tensor k, Tensor v, AttentionBatch batch, AttentionConfig config, KvCacheLayer? cache, Tensor y, Tensor? lse)
    {
        const string op = "attention_forward";
        var (mq, mk, mv, my) = (Host(op, "q", q), Host(op, "k", k), Host(op, "v", v), Host(op, "y", y));
        var saved = lse is null ? null : Host(op, "lse", lse);
        var (keys, values) = cache is null ? (null, null) : (Host(op, "cache keys", cache.Keys), Host(op, "cache values", cache.Values));
        OpContract.AttentionForward(op, q, k, v, batch, config, cache, y, lse);
        var cacheSpans = keys is null ? new KvCacheSpans([], [], 0) : new KvCacheSpans(keys.Floats, values!.Floats, cache!.Slots);
        AttentionRef.Forward(mq.Floats, mk.Floats, mv.Floats, batch, config, cacheSpans, my.Floats, saved is null ? [] : saved.Floats);
        my.RoundToStorage();
    }

    public void KvCacheAppend(Tensor k, Tensor v, AttentionBatch batch, KvCacheLayer cache)
    {
        const string op = "kv_cache_append";
        var (mk, mv) = (Host(op, "k", k), Host(op, "v", v));
        var (keys, values) = (Host(op, "cache keys", cache.Keys), Host(op, "cache values", cache.Values));
        int kvWidth = OpContract.KvCacheAppend(op, k, v, batch, cache);
        KvCacheRef.Append(mk.Floats, mv.Floats, batch, kvWidth, cache.Slots, keys.Floats, values.Floats);
        keys.RoundToStorage();
        values.RoundToStorage();
    }

    public void SwiGluForward(Tensor gate, Tensor up, Tensor y)
    {
        const string op = "swiglu_forward";
        var (g, u, output) = (Host(op, "gate", gate), Host(op, "up", up), Host(op, "y", y));
        OpContract.SwiGlu(op, gate, ("up", up), ("y", y));
        SwiGluRef.Forward(g.Floats, u.Floats, output.Floats);
        output.RoundToStorage();
    }

    public void Add(Tensor a, Tensor b, Tensor y)
    {
        const string op = "add";
        var (ma, mb, my) = (Host(op, "a", a), Host(op, "b", b), Host(op, "y", y));
        OpContract.Add(op, a, b, y);
        ElementwiseRef.Add(ma.Floats, mb.Floats, my.Floats);
        my.RoundToStorage();
    }

    public void Scale(Tensor x, float alpha)
    {
        var mx = Host("scale", "x", x);
        OpContract.Float("scale", "x", x);
        ElementwiseRef.Scale(mx.Floats, alpha);
        mx.RoundToStorage();
    }

    public void Argmax(Tensor logits, Tensor ids)
    {
        const string op = "argmax";
        var (ml, mi) = (Host(op, "logits", logits), Host(op, "ids", ids));
        OpContract.Argmax(op, logits, ids);
        ArgmaxRef.Argmax(ml.Floats, logits.Shape[-1], mi.Ints);
    }

    /// <summary>The one check that is the cpu's own: the tensor is a <see cref="CpuTensor"/> (the contract is <see cref="OpContract"/>'s).</summary>
    private static CpuTensor Host(string op, string name, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor, name);
        return tensor as CpuTensor
            ?? throw new ArgumentException($"{op}: {name} {tensor} belongs to another device ({tensor.GetType().Name}); the cpu ops read only CpuTensor");
    }

    public void Dispose() { }
}
