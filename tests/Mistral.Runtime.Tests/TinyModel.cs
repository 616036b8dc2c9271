using Mistral.Kernels.Ops;
using Mistral.Kernels.Ops.Reference;
using Mistral.Runtime.Model;
using Mistral.Testing;
using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Mistral;

namespace Mistral.Runtime.Tests;

/// <summary>The tiny-mistral fixture model on the CPU reference ops, and its reference tensors. Shared by a test class.</summary>
public sealed class TinyModel : IDisposable
{
    /// <summary>The fixture's own bound for fp32 logits and logprobs (index.json suggested_tolerance, README).</summary>
    public const double ReferenceTolerance = 1e-4;

    public TinyModel() : this(Fixtures.TinyNative) { }

    /// <summary>Any layout of the fixture model (or another model directory).</summary>
    public static TinyModel Open(string modelDir) => new(modelDir);

    private TinyModel(string modelDir)
    {
        Ops = new CpuOps();
        Loaded = LoadedModel.Load(modelDir, Ops);
    }

    public CpuOps Ops { get; }
    public LoadedModel Loaded { get; }
    public ICausalLm Model => Loaded.Model;
    public MistralConfig Config => (MistralConfig)Loaded.Config;

    /// <summary>The three prompts of reference/forward.safetensors and greedy.safetensors (prompt{i}.tokens).</summary>
    public static int[][] ReferencePrompts()
    {
        using var file = SafeTensorsFile.Open(Path.Combine(Fixtures.TinyReference, "forward.safetensors"));
        return Enumerable.Range(0, 3).Select(i => file.Get($"prompt{i}.tokens").ToInt32()).ToArray();
    }

    public static float[] ReferenceFloats(string file, string name) => ReferenceTensors.Floats(Fixtures.TinyReference, file, name);

    public static int[] ReferenceInts(string file, string name) => ReferenceTensors.Ints(Fixtures.TinyReference, file, name);

    /// <summary>
    /// The three reference prompts in one batch against reference/forward.safetensors: each prompt's logits within
    /// <see cref="ReferenceTolerance"/> (asserted, naming <paramref name="what"/>); returns the largest difference.
    /// </summary>
    public double AssertReferenceLogits(string what)
    {
        var prompts = ReferencePrompts();
        var batch = AttentionBatch.FromLengths([.. prompts.Select(p => p.Length)]);
        var logits = Download(Model.Forward([.. prompts.SelectMany(p => p)], batch));
        int vocab = Config.VocabSize;
        double worst = 0;
        for (int i = 0; i < prompts.Length; i++)
        {
            var expected = ReferenceFloats("forward.safetensors", $"prompt{i}.logits");
            var actual = logits.AsSpan(batch.TokenOffsets[i] * vocab, prompts[i].Length * vocab);
            TensorAssert.Close(expected, actual, ReferenceTolerance, what: $"{what} prompt{i}.logits");
            worst = Math.Max(worst, TensorAssert.MaxAbsDiff(expected, actual));
        }
        return worst;
    }

    public float[] Download(Mistral.Kernels.Tensors.Tensor tensor)
    {
        var host = new float[tensor.ElementCount];
        Ops.Download(tensor, host);
        return host;
    }

    /// <summary>Deterministic pseudo-random prompts (BOS first) of the given lengths, for cases longer than the fixture's.</summary>
    public static int[][] RandomPrompts(int seed, params int[] lengths)
    {
        var random = new Random(seed);
        return lengths.Select(n => Enumerable.Range(0, n).Select(i => i == 0 ? 1 : random.Next(32000)).ToArray()).ToArray();
    }

    public void Dispose()
    {
        Loaded.Dispose();
        Ops.Dispose();
    }
}
