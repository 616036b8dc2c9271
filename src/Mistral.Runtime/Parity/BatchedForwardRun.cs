using Mistral.Kernels.Ops;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Parity;

/// <summary>
/// What the "forward" kinds (fp32 and bf16) share: every prompt of the case goes through ONE batched, cache-free
/// forward (sequences packed), the logits [T, V] are downloaded once, and each prompt's reference "prompt{i}.logits"
/// [L_i, V] is read and checked for shape. The kinds differ only in how they judge the pairs.
/// </summary>
internal sealed class BatchedForwardRun : IDisposable
{
    private readonly float[] _actual;                                       // [T, V]
    private readonly AttentionBatch _batch;

    private BatchedForwardRun(int[][] prompts, SafeTensorsFile file, int vocab, AttentionBatch batch, float[] actual)
    {
        Prompts = prompts;
        File = file;
        Vocab = vocab;
        _batch = batch;
        _actual = actual;
    }

    public int[][] Prompts { get; }

    /// <summary>The case's file, for anything a kind reads besides the logits.</summary>
    public SafeTensorsFile File { get; }

    public int Vocab { get; }

    /// <summary>Opens the case's file (so a missing file fails before the model runs), then runs and downloads the forward.</summary>
    public static BatchedForwardRun Start(ParityCase testCase, ParityContext context)
    {
        var prompts = testCase.Prompts();
        var file = testCase.OpenFile(context.FixtureDir);
        try
        {
            var model = context.Model;
            int vocab = model.Config.VocabSize;
            var batch = AttentionBatch.FromLengths(prompts.Select(p => p.Length).ToArray());
            var logits = model.Forward(prompts.SelectMany(p => p).ToArray(), batch);
            var actual = new float[logits.ElementCount];
            context.Ops.Download(logits, actual);
            return new BatchedForwardRun(prompts, file, vocab, batch, actual);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Prompt i's logits [L_i, V] from this engine; <paramref name="expected"/> gets the reference's, shape-checked.</summary>
    public ReadOnlySpan<float> Logits(int i, out float[] expected)
    {
        expected = ParityCase.ReadFloats(File, $"prompt{i}.logits");
        if (expected.Length != Prompts[i].Length * Vocab)
            throw new ParityFormatException(File.FilePath, $"prompt{i}.logits holds {expected.Length} values, expected {Prompts[i].Length}×{Vocab}");
        return _actual.AsSpan(_batch.TokenOffsets[i] * Vocab, expected.Length);
    }

    public void Dispose() => File.Dispose();
}
