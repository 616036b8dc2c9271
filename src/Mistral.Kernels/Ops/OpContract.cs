using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops;

/// <summary>
/// The <see cref="IOps"/> contract, checked in one place for every implementation: the dtype each operand must have
/// (a float, I32, or F32 where the interface says so), the shapes and counts that must agree, the config, and the
/// index values where an implementation holds them on the host. Every failure is one ArgumentException naming the op,
/// the argument and the shapes, thrown before anything is written or launched. <see cref="Reference.CpuOps"/> and
/// <see cref="Cuda.CudaOps"/> call it first and add only what is their own (whose tensor it is; on CUDA, the storage
/// dtype); the launchers add only what a kernel needs (alignment, the dtypes and head dims it is compiled for, workspace).
/// Legend: T = tokens, D = dim, H = heads, Hkv = kv heads, Dh = head dim, V = vocab.
/// </summary>
internal static class OpContract
{
    // ---- memory ---------------------------------------------------------------------------------------------------

    /// <summary>Raw bytes of <paramref name="sourceDType"/> for a new <paramref name="dtype"/> tensor of <paramref name="shape"/>.</summary>
    public static void UploadBytes(int bytes, DType sourceDType, Shape shape, DType dtype)
    {
        long expected = shape.ElementCount * sourceDType.SizeOf();
        That(bytes == expected, "upload", $"{bytes} bytes of {sourceDType} for shape {shape}, expected {expected}");
        That((sourceDType.IsFloat() && dtype.IsFloat()) || (dtype == DType.I32 && sourceDType is DType.I32 or DType.I64), "upload",
            $"cannot convert {sourceDType} data to a {dtype} tensor");
    }

    /// <summary>Host values (<paramref name="kind"/> F32: floats, I32: ints) for a new tensor of <paramref name="shape"/>.</summary>
    public static void UploadValues(int length, DType kind, Shape shape, DType dtype)
    {
        That(kind == DType.I32 ? dtype == DType.I32 : dtype.IsFloat(), "upload", $"{Unit(kind)} cannot become a {dtype} tensor");
        That(length == shape.ElementCount, "upload", $"{length} {Unit(kind)} for shape {shape}, expected {shape.ElementCount}");
    }

    /// <summary>I64 values (token ids of a checkpoint or a fixture) narrowed to I32, each checked to fit.</summary>
    public static void NarrowToInt32(ReadOnlySpan<long> wide, Span<int> ints)
    {
        for (int i = 0; i < ints.Length; i++)
        {
            That(wide[i] is >= int.MinValue and <= int.MaxValue, "upload", $"I64 value {wide[i]} at [{i}] does not fit I32");
            ints[i] = (int)wide[i];
        }
    }

    /// <summary>A tensor into a host span of <paramref name="length"/> values of <paramref name="kind"/> (F32 for floats, I32).</summary>
    public static void Download(Tensor src, int length, DType kind)
    {
        if (kind == DType.I32) Int("download", "src", src);
        else Float("download", "src", src);
        That(length == src.ElementCount, "download", $"destination holds {length} {Unit(kind)}, src {src} has {src.ElementCount}");
    }

    /// <summary>An in-place write of <paramref name="length"/> host ints into the I32 tensor <paramref name="dst"/> (IDeviceOps.Write).</summary>
    public static void Write(int length, Tensor dst)
    {
        Int("write", "dst", dst);
        That(length == dst.ElementCount, "write", $"{length} ints for dst {dst}, which has {dst.ElementCount} elements");
    }

    public static void Copy(Tensor src, Tensor dst) => Count("copy", "dst", dst, src.ElementCount, $"the count of src {src.Shape}");

    public static void Fill(Tensor dst, float value)
    {
        if (dst.DType == DType.I32) That(value == MathF.Round(value), "fill", $"{value} is not an integer, dst {dst} is I32");
        else Float("fill", "dst", dst);
    }

    // ---- the op families ------------------------------------------------------------------------------------------

    /// <summary>tokens I32 [T]; table [V, D]; rows (y, or dY backward) [T, D].</summary>
    public static void Embedding(string op, Tensor tokens, Tensor table, string tableName, Tensor rows, string rowsName)
    {
        Int(op, "tokens", tokens);
        Float(op, tableName, table);
        Float(op, rowsName, rows);
        That(table.Shape.Rank == 2, op, $"{tableName} {table.Shape} must be [V, D]");
        int dim = table.Shape[1];
        Count(op, rowsName, rows, tokens.ElementCount * dim, $"[{tokens.ElementCount}, {dim}] (tokens × table dim)");
    }

    /// <summary>Each id indexes a row of a table of <paramref name="vocab"/> rows.</summary>
    public static void TokenIds(string op, ReadOnlySpan<int> ids, int vocab)
    {
        for (int t = 0; t < ids.Length; t++)
            That((uint)ids[t] < (uint)vocab, op, $"token id {ids[t]} at [{t}] is outside the table's {vocab} rows");
    }

    /// <summary>x, y [R, D], weight [D]; rstd F32 [R] when given.</summary>
    public static void RmsNormForward(string op, Tensor x, Tensor weight, Tensor y, Tensor? rstd)
    {
        RmsNorm(op, x, weight);
        Like(op, "y", y, "x", x);
        if (rstd is not null) Rstd(op, rstd, x);
    }

    public static void RmsNormBackward(string op, Tensor x, Tensor weight, Tensor rstd, Tensor dY, Tensor dX, Tensor? dWeight)
    {
        RmsNorm(op, x, weight);
        Rstd(op, rstd, x);
        Like(op, "dY", dY, "x", x);
        Like(op, "dX", dX, "x", x);
        if (dWeight is not null) Like(op, "dWeight", dWeight, "weight", weight);
    }

    /// <summary>c [M, N] = op(a) [M, K] · op(b) [K, N], each operand seen as [product of leading dims, last dim].</summary>
    public static (int M, int N, int K) Gemm(string op, Tensor a, bool transposeA, Tensor b, bool transposeB, Tensor c)
    {
        Float(op, "a", a);
        Float(op, "b", b);
        Float(op, "c", c);
        That(!ReferenceEquals(c, a) && !ReferenceEquals(c, b), op, "c must not be a or b");
        int m = transposeA ? a.Shape[-1] : a.Shape.Rows, k = transposeA ? a.Shape.Rows : a.Shape[-1];
        int kb = transposeB ? b.Shape[-1] : b.Shape.Rows, n = transposeB ? b.Shape.Rows : b.Shape[-1];
        string shapes = $"op(a) = a{a.Shape}{(transposeA ? "ᵀ" : "")}, op(b) = b{b.Shape}{(transposeB ? "ᵀ" : "")}, c{c.Shape}";
        That(k == kb, op, $"inner dimensions differ ({k} vs {kb}): {shapes}");
        That(c.Shape.Rows == m && c.Shape[-1] == n, op, $"c must be [{m}, {n}]: {shapes}");
        return (m, n, k);
    }

    /// <summary>x (dY backward) and y (dX) [T, heads·Dh] with Dh even; positions I32 [T].</summary>
    public static void Rope(string op, Tensor x, string xName, Tensor positions, int headDim, Tensor y, string yName)
    {
        Float(op, xName, x);
        Int(op, "positions", positions);
        Float(op, yName, y);
        That(headDim > 0 && headDim % 2 == 0, op, $"head dim {headDim} must be positive and even (rotated in pairs)");
        That(x.Shape.Rank >= 1 && positions.ElementCount == x.Shape.Rows && x.Shape[-1] % headDim == 0, op,
            $"{xName} {x.Shape} is not [T, heads·{headDim}] for T = {positions.ElementCount} positions {positions.Shape}");
        Like(op, yName, y, xName, x);
    }

    public static void Positions(string op, ReadOnlySpan<int> positions)
    {
        foreach (var p in positions) That(p >= 0, op, $"negative position {p}");
    }

    /// <summary>q, y [T, H·Dh]; k, v [T, Hkv·Dh]; lse F32 [H, T] when given; the cache as <see cref="KvCacheAppend"/> reads it.</summary>
    public static void AttentionForward(string op, Tensor q, Tensor k, Tensor v, AttentionBatch batch, AttentionConfig config,
        KvCacheLayer? cache, Tensor y, Tensor? lse)
    {
        Attention(op, q, k, v, batch, config);
        Like(op, "y", y, "q", q);
        if (lse is not null) Lse(op, lse, batch, config);
        if (cache is not null) Cache(op, cache, batch, config.NKvHeads * config.HeadDim);
    }

    public static void AttentionBackward(string op, Tensor q, Tensor k, Tensor v, Tensor y, Tensor lse, Tensor dY, AttentionBatch batch,
        AttentionConfig config, Tensor dQ, Tensor dK, Tensor dV)
    {
        Attention(op, q, k, v, batch, config);
        foreach (var (name, t, likeName, like) in new[] { ("y", y, "q", q), ("dY", dY, "q", q), ("dQ", dQ, "q", q), ("dK", dK, "k", k), ("dV", dV, "v", v) })
            Like(op, name, t, likeName, like);
        Lse(op, lse, batch, config);
    }

    /// <summary>k, v [T, W]; the cache [rows, Slots, W] in keys and values. Returns W (Hkv·Dh).</summary>
    public static int KvCacheAppend(string op, Tensor k, Tensor v, AttentionBatch batch, KvCacheLayer cache)
    {
        Float(op, "k", k);
        Like(op, "v", v, "k", k);
        That(batch.TotalTokens > 0 && k.ElementCount % batch.TotalTokens == 0, op, $"k {k.Shape} is not [{batch.TotalTokens}, Hkv·Dh]");
        int kvWidth = (int)(k.ElementCount / batch.TotalTokens);
        Cache(op, cache, batch, kvWidth);
        return kvWidth;
    }

    /// <summary>gate and every other operand [T, F].</summary>
    public static void SwiGlu(string op, Tensor gate, params ReadOnlySpan<(string Name, Tensor Tensor)> others) =>
        ElementwiseLike(op, "gate", gate, others);

    /// <summary>x and every other operand (y, or dY and dX backward): one shape.</summary>
    public static void Gelu(string op, Tensor x, params ReadOnlySpan<(string Name, Tensor Tensor)> others) =>
        ElementwiseLike(op, "x", x, others);

    /// <summary>x, y [R, D]; weight, bias [D]; mean and rstd F32 [R] when given, both or neither.</summary>
    public static void LayerNormForward(string op, Tensor x, Tensor weight, Tensor bias, Tensor y, Tensor? mean, Tensor? rstd)
    {
        RmsNorm(op, x, weight);
        RowVector(op, "x", x, "bias", bias);
        Like(op, "y", y, "x", x);
        That((mean is null) == (rstd is null), op, "mean and rstd are saved together; give both or neither");
        if (mean is not null) RowStatistic(op, "mean", mean, x);
        if (rstd is not null) Rstd(op, rstd, x);
    }

    public static void LayerNormBackward(string op, Tensor x, Tensor weight, Tensor mean, Tensor rstd, Tensor dY, Tensor dX, Tensor? dWeight, Tensor? dBias)
    {
        RmsNorm(op, x, weight);
        RowStatistic(op, "mean", mean, x);
        Rstd(op, rstd, x);
        Like(op, "dY", dY, "x", x);
        Like(op, "dX", dX, "x", x);
        if (dWeight is not null) Like(op, "dWeight", dWeight, "weight", weight);
        if (dBias is not null) Like(op, "dBias", dBias, "weight", weight);
    }

    /// <summary>x, y [R, N]; bias [N].</summary>
    public static void BiasAdd(string op, Tensor x, Tensor bias, Tensor y)
    {
        Float(op, "x", x);
        RowVector(op, "x", x, "bias", bias);
        Like(op, "y", y, "x", x);
    }

    /// <summary>dY [R, N]; dBias [N].</summary>
    public static void BiasBackward(string op, Tensor dY, Tensor dBias)
    {
        Float(op, "dY", dY);
        RowVector(op, "dY", dY, "dBias", dBias);
    }

    /// <summary>y = a + b: one shape.</summary>
    public static void Add(string op, Tensor a, Tensor b, Tensor y)
    {
        Float(op, "a", a);
        Like(op, "b", b, "a", a);
        Like(op, "y", y, "a", a);
    }

    /// <summary>logits [R, V], V &gt; 0; ids I32 [R].</summary>
    public static void Argmax(string op, Tensor logits, Tensor ids)
    {
        Float(op, "logits", logits);
        Int(op, "ids", ids);
        That(logits.Shape.Rank >= 1 && logits.Shape[-1] > 0, op, $"logits {logits.Shape} must be [R, V] with V > 0");
        Count(op, "ids", ids, logits.Shape.Rows, $"[{logits.Shape.Rows}] (one per row of logits {logits.Shape})");
    }

    /// <summary>logits [T, V]; targets I32 [T]; weights F32 [T]; losses F32 [T].</summary>
    public static void CrossEntropyForward(string op, Tensor logits, Tensor targets, Tensor weights, Tensor losses)
    {
        CrossEntropy(op, logits, targets, weights);
        F32(op, "losses", losses);
        PerRow(op, "losses", losses, logits);
    }

    /// <summary>dLogits like logits.</summary>
    public static void CrossEntropyBackward(string op, Tensor logits, Tensor targets, Tensor weights, Tensor dLogits)
    {
        CrossEntropy(op, logits, targets, weights);
        Like(op, "dLogits", dLogits, "logits", logits);
    }

    /// <summary>Each target indexes a column of logits with <paramref name="vocab"/> columns.</summary>
    public static void Targets(string op, ReadOnlySpan<int> targets, int vocab)
    {
        for (int t = 0; t < targets.Length; t++)
            That((uint)targets[t] < (uint)vocab, op, $"target {targets[t]} at [{t}] is outside the vocab of {vocab}");
    }

    /// <summary>param, grad, m, v F32, one shape; steps count from 1.</summary>
    public static void AdamWStep(string op, Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStepArgs args)
    {
        F32(op, "param", param);
        foreach (var (name, t) in new[] { ("grad", grad), ("m", m), ("v", v) })
        {
            F32(op, name, t);
            SameShape(op, name, t, "param", param);
        }
        That(args.Step >= 1, op, $"step {args.Step} must count from 1");
    }

    /// <summary>Each tensor's param, grad, m, v F32 of one shape; steps count from 1.</summary>
    public static void AdamWStep(string op, IReadOnlyList<AdamWTensors> tensors, AdamWStepArgs args)
    {
        for (int i = 0; i < tensors.Count; i++)
            AdamWStep($"{op} [{i}]", tensors[i].Param, tensors[i].Grad, tensors[i].M, tensors[i].V, args);
        That(args.Step >= 1, op, $"step {args.Step} must count from 1");
    }

    /// <summary>Every tensor F32 (gradients of trained parameters).</summary>
    public static void SumOfSquares(string op, IReadOnlyList<Tensor> xs)
    {
        for (int i = 0; i < xs.Count; i++) F32(op, $"x[{i}]", xs[i]);
    }

    // ---- shared by a family's forward and backward ----------------------------------------------------------------

    /// <summary>x [R, D] and a norm's weight [D] (RMSNorm and LayerNorm alike).</summary>
    private static void RmsNorm(string op, Tensor x, Tensor weight)
    {
        Float(op, "x", x);
        RowVector(op, "x", x, "weight", weight);
    }

    /// <summary>A per-feature parameter (norm weight, bias, or their gradients) of a [R, D] tensor: a float [D], D &gt; 0.</summary>
    private static void RowVector(string op, string rowsName, Tensor rows, string name, Tensor vector)
    {
        Float(op, name, vector);
        That(vector.Shape.Rank == 1 && rows.Shape.Rank >= 1 && rows.Shape[-1] == vector.Shape[0] && vector.Shape[0] > 0, op,
            $"{name} {vector.Shape} must be [D] with D the last dimension of {rowsName} {rows.Shape}");
    }

    private static void Rstd(string op, Tensor rstd, Tensor x) => RowStatistic(op, "rstd", rstd, x);

    /// <summary>A norm's saved per-row statistic (mean, rstd): F32 [R].</summary>
    private static void RowStatistic(string op, string name, Tensor statistic, Tensor x)
    {
        F32(op, name, statistic);
        Count(op, name, statistic, x.Shape.Rows, $"[{x.Shape.Rows}] (one per row of x {x.Shape})");
    }

    private static void ElementwiseLike(string op, string referenceName, Tensor reference, ReadOnlySpan<(string Name, Tensor Tensor)> others)
    {
        Float(op, referenceName, reference);
        foreach (var (name, t) in others) Like(op, name, t, referenceName, reference);
    }

    private static void Attention(string op, Tensor q, Tensor k, Tensor v, AttentionBatch batch, AttentionConfig config)
    {
        Float(op, "q", q);
        Float(op, "k", k);
        That(config.NHeads > 0 && config.NKvHeads > 0 && config.NHeads % config.NKvHeads == 0, op,
            $"{config.NHeads} heads cannot share {config.NKvHeads} kv heads evenly");
        That(config.HeadDim > 0 && config.Window > 0, op, $"head dim {config.HeadDim} and window {config.Window} must be positive");
        int tokens = batch.TotalTokens;
        Count(op, "q", q, (long)tokens * config.NHeads * config.HeadDim, $"[{tokens}, {config.NHeads}·{config.HeadDim}] (tokens × heads·head dim)");
        Count(op, "k", k, (long)tokens * config.NKvHeads * config.HeadDim, $"[{tokens}, {config.NKvHeads}·{config.HeadDim}] (tokens × kv heads·head dim)");
        Like(op, "v", v, "k", k);
    }

    private static void Lse(string op, Tensor lse, AttentionBatch batch, AttentionConfig config)
    {
        F32(op, "lse", lse);
        Count(op, "lse", lse, (long)config.NHeads * batch.TotalTokens, $"[{config.NHeads}, {batch.TotalTokens}] (heads × tokens)");
    }

    private static void Cache(string op, KvCacheLayer cache, AttentionBatch batch, int kvWidth)
    {
        Float(op, "cache keys", cache.Keys);
        Like(op, "cache values", cache.Values, "cache keys", cache.Keys);
        That(cache.Slots > 0, op, $"cache has {cache.Slots} slots");
        var shape = cache.Keys.Shape;
        That(shape.Rank >= 1 && shape[0] > 0 && shape.ElementCount == (long)shape[0] * cache.Slots * kvWidth, op,
            $"cache keys {shape} must be [rows, {cache.Slots} slots, {kvWidth}]");
        for (int b = 0; b < batch.SequenceCount; b++)
            That((uint)batch.CacheRows[b] < (uint)shape[0], op, $"sequence {b} uses cache row {batch.CacheRows[b]}, the cache has {shape[0]} rows");
    }

    private static void CrossEntropy(string op, Tensor logits, Tensor targets, Tensor weights)
    {
        Float(op, "logits", logits);
        Int(op, "targets", targets);
        F32(op, "weights", weights);
        That(logits.Shape.Rank == 2 && logits.Shape[1] > 0, op, $"logits {logits.Shape} must be [T, V]");
        PerRow(op, "targets", targets, logits);
        PerRow(op, "weights", weights, logits);
    }

    private static void PerRow(string op, string name, Tensor tensor, Tensor logits) =>
        Count(op, name, tensor, logits.Shape[0], $"[{logits.Shape[0]}] (one per row of logits {logits.Shape})");

    // ---- the checks every op is made of ---------------------------------------------------------------------------

    /// <summary>A float tensor (F32, BF16 or F16).</summary>
    public static void Float(string op, string name, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor, name);
        That(tensor.DType.IsFloat(), op, $"{name} {tensor} must be a float tensor (F32, BF16 or F16)");
    }

    /// <summary>Exactly F32 (no conversion is implied).</summary>
    public static void F32(string op, string name, Tensor tensor) => DTypeIs(op, name, tensor, DType.F32);

    /// <summary>Exactly I32.</summary>
    public static void Int(string op, string name, Tensor tensor) => DTypeIs(op, name, tensor, DType.I32);

    private static void DTypeIs(string op, string name, Tensor tensor, DType dtype)
    {
        ArgumentNullException.ThrowIfNull(tensor, name);
        That(tensor.DType == dtype, op, $"{name} {tensor} must be {dtype}");
    }

    /// <summary>Exactly <paramref name="count"/> elements; <paramref name="expected"/> says which shape that is.</summary>
    private static void Count(string op, string name, Tensor tensor, long count, string expected) =>
        That(tensor.ElementCount == count, op, $"{name} is {tensor.Shape} ({tensor.ElementCount} elements), expected {expected} ({count} elements)");

    /// <summary>A float tensor of the same shape as <paramref name="reference"/>.</summary>
    private static void Like(string op, string name, Tensor tensor, string referenceName, Tensor reference)
    {
        Float(op, name, tensor);
        SameShape(op, name, tensor, referenceName, reference);
    }

    private static void SameShape(string op, string name, Tensor tensor, string referenceName, Tensor reference) =>
        That(tensor.Shape.Equals(reference.Shape), op, $"{name} is {tensor.Shape} but {referenceName} is {reference.Shape}; they must match");

    private static void That(bool condition, string op, string message)
    {
        if (!condition) throw new ArgumentException($"{op}: {message}");
    }

    private static string Unit(DType dtype) => dtype == DType.I32 ? "ints" : "floats";

}
