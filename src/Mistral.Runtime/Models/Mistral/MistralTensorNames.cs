using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Models.Mistral;

/// <summary>
/// The Mistral family's native (mistral-src) tensor names and the shape each must have under a config. Every layout is loaded to these
/// names; linear weights are [out, in].
/// </summary>
public static class MistralTensorNames
{
    public const string TokEmbeddings = "tok_embeddings.weight";
    public const string Norm = "norm.weight";
    public const string Output = "output.weight";

    public static string Wq(int layer) => $"layers.{layer}.attention.wq.weight";
    public static string Wk(int layer) => $"layers.{layer}.attention.wk.weight";
    public static string Wv(int layer) => $"layers.{layer}.attention.wv.weight";
    public static string Wo(int layer) => $"layers.{layer}.attention.wo.weight";
    public static string W1(int layer) => $"layers.{layer}.feed_forward.w1.weight";
    public static string W2(int layer) => $"layers.{layer}.feed_forward.w2.weight";
    public static string W3(int layer) => $"layers.{layer}.feed_forward.w3.weight";
    public static string AttentionNorm(int layer) => $"layers.{layer}.attention_norm.weight";
    public static string FfnNorm(int layer) => $"layers.{layer}.ffn_norm.weight";

    /// <summary>Every tensor a model of this config has, with its shape, in checkpoint order (embeddings, layers, norm, output).</summary>
    public static IReadOnlyList<(string Name, Shape Shape)> Expected(MistralConfig c)
    {
        int qOut = c.NHeads * c.HeadDim, kvOut = c.NKvHeads * c.HeadDim;
        var list = new List<(string, Shape)> { (TokEmbeddings, new Shape(c.VocabSize, c.Dim)) };
        for (int i = 0; i < c.NLayers; i++)
        {
            list.Add((Wq(i), new Shape(qOut, c.Dim)));
            list.Add((Wk(i), new Shape(kvOut, c.Dim)));
            list.Add((Wv(i), new Shape(kvOut, c.Dim)));
            list.Add((Wo(i), new Shape(c.Dim, qOut)));
            list.Add((W1(i), new Shape(c.HiddenDim, c.Dim)));
            list.Add((W2(i), new Shape(c.Dim, c.HiddenDim)));
            list.Add((W3(i), new Shape(c.HiddenDim, c.Dim)));
            list.Add((AttentionNorm(i), new Shape(c.Dim)));
            list.Add((FfnNorm(i), new Shape(c.Dim)));
        }
        list.Add((Norm, new Shape(c.Dim)));
        list.Add((Output, new Shape(c.VocabSize, c.Dim)));
        return list;
    }
}
