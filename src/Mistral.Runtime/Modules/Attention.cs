using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Modules;

/// <summary>
/// Multi-head causal self-attention, x [T, D] → y [T, D]: q, k, v projections, optional <see cref="Rope"/> on q and k,
/// grouped-query attention over a sliding window or the full causal past (<see cref="AttentionConfig"/>), then the
/// output projection. With a KV cache the chunk attends to the cached positions before it plus itself, and only then
/// enters the cache. Observation points (prefixed by the caller's layer name): q_rope, k_rope (q, k without RoPE), v, and when asked
/// attn_heads (the heads side by side, input of the output projection).
/// Legend: T = packed tokens, H = heads, Hkv = kv heads, Dh = head dim.
/// </summary>
/// <param name="observeHeads">also report attn_heads, a point only some references dump (GPT-2's).</param>
public sealed class Attention(Linear wq, Linear wk, Linear wv, Linear wo, AttentionConfig config, Rope? rope, bool observeHeads = false)
{
    public Linear Wq { get; } = wq;
    public Linear Wk { get; } = wk;
    public Linear Wv { get; } = wv;
    public Linear Wo { get; } = wo;
    public AttentionConfig Config { get; } = config;
    public Rope? Rope { get; } = rope;

    /// <param name="accumulate">y += the output instead of y = (inference only): the residual add in the output projection.</param>
    public void Forward(ForwardPass pass, Tensor x, Tensor positions, AttentionBatch batch, KvCacheLayer? cache, Tensor y,
        ActivationObserver? observe = null, string observePrefix = "", bool accumulate = false)
    {
        int T = batch.TotalTokens, Dh = Config.HeadDim;
        var (q, k, v) = Project(pass, x, T);

        if (Rope is not null)
        {
            Rope.Apply(pass, q, positions);
            Rope.Apply(pass, k, positions);
        }
        string rotated = Rope is null ? "" : "_rope";
        observe?.Invoke(observePrefix + "q" + rotated, q);
        observe?.Invoke(observePrefix + "k" + rotated, k);
        observe?.Invoke(observePrefix + "v", v);

        var att = pass.Buffer("att", T, Config.NHeads * Dh); // [T, H·Dh]
        Scores(pass, q, k, v, batch, cache, att);
        if (cache is not null) pass.Ops.KvCacheAppend(k, v, batch, cache);
        if (observeHeads) observe?.Invoke(observePrefix + "attn_heads", att);
        if (accumulate) Wo.ForwardAdd(pass, att, y);
        else Wo.Forward(pass, att, y);
    }

    /// <summary>q [T, H·Dh], k, v [T, Hkv·Dh] from x: one <see cref="IOps.Linears"/> call when the three layers are plain (inference without adapters; one launch on a device for a decode step), else each layer's forward.</summary>
    private (Tensor Q, Tensor K, Tensor V) Project(ForwardPass pass, Tensor x, int T)
    {
        int Dh = Config.HeadDim;
        if (Wq.IsPlain(pass) && Wk.IsPlain(pass) && Wv.IsPlain(pass))
        {
            Tensor[] qkv = [pass.Buffer("q", T, Config.NHeads * Dh), pass.Buffer("k", T, Config.NKvHeads * Dh), pass.Buffer("v", T, Config.NKvHeads * Dh)];
            pass.Ops.Linears(x, [Wq.Weight, Wk.Weight, Wv.Weight], qkv);
            foreach (var (linear, output) in new[] { Wq, Wk, Wv }.Zip(qkv))
                if (linear.Bias is { } bias) pass.Ops.BiasAdd(output, bias, output);   // GPT-2's c_attn: as Linear.Forward adds it
            return (qkv[0], qkv[1], qkv[2]);
        }
        // Each buffer right before the op that writes it: a tape frees an activation's gradient after the backward
        // of the first op recorded after the activation was allocated (Tape's summary).
        var q = pass.Buffer("q", T, Config.NHeads * Dh);     // [T, H·Dh]
        Wq.Forward(pass, x, q);
        var k = pass.Buffer("k", T, Config.NKvHeads * Dh);   // [T, Hkv·Dh]
        Wk.Forward(pass, x, k);
        var v = pass.Buffer("v", T, Config.NKvHeads * Dh);   // [T, Hkv·Dh]
        Wv.Forward(pass, x, v);
        return (q, k, v);
    }

    /// <summary>softmax(q·kᵀ·scale, causal/window mask)·v; while training (no cache) its backward adds dQ, dK, dV.</summary>
    private void Scores(ForwardPass pass, Tensor q, Tensor k, Tensor v, AttentionBatch batch, KvCacheLayer? cache, Tensor y)
    {
        var ops = pass.Ops;
        if (pass.Train is not { } train)
        {
            ops.AttentionForward(q, k, v, batch, Config, cache, y, null);
            return;
        }
        var tape = train.Tape;
        var lse = tape.New(DType.F32, Config.NHeads, batch.TotalTokens); // [H, T]
        ops.AttentionForward(q, k, v, batch, Config, null, y, lse);
        tape.Record(() =>
        {
            if (tape.GradOf(y) is not { } dY) return;
            using var dQ = ops.Allocate(q.Shape, ops.ActivationDType);
            using var dK = ops.Allocate(k.Shape, ops.ActivationDType);
            using var dV = ops.Allocate(v.Shape, ops.ActivationDType);
            ops.AttentionBackward(q, k, v, y, lse, dY, batch, Config, dQ, dK, dV);
            tape.AccumulateGrad(q, g => ops.Copy(dQ, g));
            tape.AccumulateGrad(k, g => ops.Copy(dK, g));
            tape.AccumulateGrad(v, g => ops.Copy(dV, g));
        });
    }
}
