using System.Diagnostics;
using Mistral.Runtime.Tokenizer;

namespace Mistral.Runtime.Training.Pretrain.Data;

/// <summary>
/// Turns documents into one token stream: each document encoded as plain text (no special tokens) and PRECEDED by the
/// separator id, results concatenated in document order (CONVENTIONS.md "Data convention": an empty document gives the
/// separator alone, and two documents never touch). Encoding runs on numProc threads over chunks of documents;
/// the stream is written in order, so it does not depend on numProc.
/// </summary>
public static class DocumentTokenizer
{
    private const int ChunkDocuments = 64;

    /// <summary>Writes the stream of <paramref name="documents"/> to <paramref name="output"/>; returns the tokens written.</summary>
    public static long Tokenize(
        IReadOnlyList<string> documents, ITokenizer tokenizer, int separatorId, int numProc, TokenFileWriter output,
        string split = "train", IProgress<TokenizeProgress>? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numProc, 1);
        var clock = Stopwatch.StartNew();
        long written = 0;
        int chunks = (documents.Count + ChunkDocuments - 1) / ChunkDocuments;
        int window = numProc * 4; // chunks encoded before the next in-order write: bounds memory, keeps every thread busy
        var options = new ParallelOptions { MaxDegreeOfParallelism = numProc };
        for (int first = 0; first < chunks; first += window)
        {
            int count = Math.Min(window, chunks - first);
            var encoded = new int[count][];
            Parallel.For(0, count, options, c => encoded[c] = EncodeChunk(documents, (first + c) * ChunkDocuments, tokenizer, separatorId));
            foreach (var tokens in encoded)
            {
                output.Append(tokens);
                written += tokens.Length;
            }
            int done = Math.Min(documents.Count, (first + count) * ChunkDocuments);
            progress?.Report(new TokenizeProgress(split, done, documents.Count, written, clock.Elapsed));
        }
        return written;
    }

    /// <summary>The stream of a list of documents, in memory (for small inputs and tests).</summary>
    public static int[] Stream(IEnumerable<string> documents, ITokenizer tokenizer, int separatorId) =>
        documents.SelectMany(d => tokenizer.Encode(d, bos: false).Prepend(separatorId)).ToArray();

    private static int[] EncodeChunk(IReadOnlyList<string> documents, int start, ITokenizer tokenizer, int separatorId)
    {
        var tokens = new List<int>();
        for (int i = start; i < Math.Min(start + ChunkDocuments, documents.Count); i++)
        {
            tokens.Add(separatorId);
            tokens.AddRange(tokenizer.Encode(documents[i], bos: false));
        }
        return [.. tokens];
    }
}
