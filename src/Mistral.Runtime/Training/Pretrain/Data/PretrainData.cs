using System.Security.Cryptography;
using System.Text;
using Mistral.Runtime.Tokenizer;
using Mistral.Runtime.Training.Data;

namespace Mistral.Runtime.Training.Pretrain.Data;

/// <summary>
/// The tokenized corpus of a `train` run: Train (and Validation, when there is a split) as blocks of SeqLen tokens,
/// read from a cache folder in CacheDir. <see cref="Prepare"/> reuses the cache when its manifest matches the inputs
/// (same files by content hash, tokenizer, seq_len, seed and split); otherwise it deletes the manifest, rebuilds the token
/// files and writes the manifest last, so a build that dies half way is never taken for a cache.
/// The folder is named by a hash of the file paths and settings, so runs with other settings keep their own caches.
/// </summary>
public sealed class PretrainData : IDisposable
{
    /// <summary>Bumped when the layout of the token files changes, so old caches rebuild.</summary>
    public const int Format = 1;
    public const string TrainFileName = "train.tokens";
    public const string ValidationFileName = "validation.tokens";

    private PretrainData(string folder, TokenCacheManifest manifest, bool fromCache, string? rebuildReason)
    {
        Folder = folder;
        Manifest = manifest;
        FromCache = fromCache;
        RebuildReason = rebuildReason;
        Train = new TokenBlocks(Path.Combine(folder, manifest.Train.File), manifest.Key.DType, manifest.Key.SeqLen);
        Validation = manifest.Validation is { } v ? new TokenBlocks(Path.Combine(folder, v.File), manifest.Key.DType, manifest.Key.SeqLen) : null;
    }

    public string Folder { get; }
    public TokenCacheManifest Manifest { get; }
    public TokenBlocks Train { get; }
    public TokenBlocks? Validation { get; }
    /// <summary>True when the token files were reused; false when this call built them.</summary>
    public bool FromCache { get; }
    /// <summary>Why the cache was (re)built, e.g. "no manifest" or "train source changed: a.jsonl"; null when reused.</summary>
    public string? RebuildReason { get; }

    /// <summary>
    /// The id written before every document: the tokenizer's BOS (GPT-2: &lt;|endoftext|&gt; 50256, which is both its BOS
    /// and EOS; SentencePiece models: &lt;s&gt;), or its EOS when it has no BOS.
    /// </summary>
    public static int SeparatorOf(ITokenizer tokenizer) =>
        tokenizer.BosId >= 0 ? tokenizer.BosId
        : tokenizer.EosId >= 0 ? tokenizer.EosId
        : throw new ArgumentException("the tokenizer has neither a BOS nor an EOS id to separate documents with", nameof(tokenizer));

    public static PretrainData Prepare(PretrainDataOptions options, ITokenizer tokenizer, IProgress<TokenizeProgress>? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.SeqLen, 2);
        if (options.TrainFiles.Count == 0) throw new ArgumentException("no training files", nameof(options));
        var key = KeyOf(options, tokenizer);
        var folder = Path.Combine(options.CacheDir, FolderName(key));
        Directory.CreateDirectory(folder);

        var reason = Mismatch(folder, key);
        if (reason is null) return new PretrainData(folder, TokenCacheManifest.TryRead(folder)!, fromCache: true, null);
        File.Delete(Path.Combine(folder, TokenCacheManifest.FileName)); // from here on the folder is not a cache until the new manifest lands
        var manifest = Build(folder, key, options, tokenizer, progress);
        manifest.Write(folder);
        return new PretrainData(folder, manifest, fromCache: false, reason);
    }

    private static TokenCacheKey KeyOf(PretrainDataOptions o, ITokenizer tokenizer) => new(
        Format,
        [.. o.TrainFiles.Select(f => Describe(f, "train")), .. o.ValidationFiles.Select(f => Describe(f, "validation"))],
        [.. o.TokenizerFiles.Select(f => Describe(f, "tokenizer"))],
        tokenizer.VocabSize,
        SeparatorOf(tokenizer),
        TokenFileWriter.DTypeFor(tokenizer.VocabSize),
        o.SeqLen,
        o.Seed,
        o.ValidationFiles.Count > 0 ? null : o.ValidationRatio);

    private static CachedFile Describe(string file, string role)
    {
        var full = Path.GetFullPath(file);
        if (!File.Exists(full)) throw new DataFormatException(full, $"{role} file not found");
        using var stream = File.OpenRead(full);
        return new CachedFile(full, role, stream.Length, Convert.ToHexStringLower(SHA256.HashData(stream)));
    }

    // Named by what the run asked for (paths and settings), not by the file contents: an edited corpus rebuilds in place.
    private static string FolderName(TokenCacheKey key)
    {
        var identity = key with
        {
            Sources = [.. key.Sources.Select(s => s with { Size = 0, Sha256 = "" })],
            Tokenizer = [.. key.Tokenizer.Select(s => s with { Size = 0, Sha256 = "" })],
        };
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(TokenCacheManifest.Canonical(identity))))[..16];
    }

    /// <summary>Why the folder cannot be used as the cache for <paramref name="key"/>, or null when it can.</summary>
    private static string? Mismatch(string folder, TokenCacheKey key)
    {
        var manifest = TokenCacheManifest.TryRead(folder);
        if (manifest is null) return "no manifest (a new cache, or a build that did not finish)";
        if (TokenCacheManifest.Canonical(manifest.Key) != TokenCacheManifest.Canonical(key))
        {
            var changed = key.Sources.Concat(key.Tokenizer).Where(f => !manifest.Key.Sources.Concat(manifest.Key.Tokenizer).Contains(f)).ToList();
            return changed.Count > 0
                ? $"{changed[0].Role} file changed: {Path.GetFileName(changed[0].Path)}"
                : "the manifest was written for other settings";
        }
        int width = key.DType == TokenDType.UInt16 ? 2 : 4;
        foreach (var split in new[] { manifest.Train, manifest.Validation })
        {
            if (split is null) continue;
            var path = Path.Combine(folder, split.File);
            long expected = (long)split.Blocks * key.SeqLen * width;
            long actual = File.Exists(path) ? new FileInfo(path).Length : -1;
            if (actual != expected) return $"{split.File} has {Math.Max(actual, 0)} bytes, the manifest says {expected}";
        }
        return null;
    }

    private static TokenCacheManifest Build(string folder, TokenCacheKey key, PretrainDataOptions o, ITokenizer tokenizer, IProgress<TokenizeProgress>? progress)
    {
        var corpus = TextCorpusReader.Read(o.TrainFiles, o.MaxBadLineFraction);
        var bad = corpus.BadLines.ToList();
        IReadOnlyList<string> train = corpus.Documents, validation = [];
        if (o.ValidationFiles.Count > 0)
        {
            var held = TextCorpusReader.Read(o.ValidationFiles, o.MaxBadLineFraction);
            validation = held.Documents;
            bad.AddRange(held.BadLines);
        }
        else if (o.ValidationRatio > 0)
        {
            if (train.Count < 2)
                throw new DataFormatException(o.TrainFiles[0],
                    $"validation_ratio {o.ValidationRatio} needs at least 2 documents to split, found {train.Count}; give validation files or set validation_ratio to 0");
            (train, validation) = DatasetSplit.Split(corpus.Documents, o.ValidationRatio, o.Seed);
        }

        var trainInfo = WriteSplit(folder, TrainFileName, "train", train, key, o, tokenizer, progress)
            ?? throw new DataFormatException(o.TrainFiles[0], $"the training documents give fewer tokens than one block of seq_len {o.SeqLen}");
        TokenSplitInfo? validationInfo = null;
        if (validation.Count > 0)
            validationInfo = WriteSplit(folder, ValidationFileName, "validation", validation, key, o, tokenizer, progress)
                ?? throw new DataFormatException(o.ValidationFiles.Count > 0 ? o.ValidationFiles[0] : o.TrainFiles[0],
                    $"the validation documents give fewer tokens than one block of seq_len {o.SeqLen}; give more validation text or raise validation_ratio");
        return new TokenCacheManifest(key, trainInfo, validationInfo, bad.Count, [.. bad.Take(JsonlDataset.BadLinesShown).Select(b => b.ToString())]);
    }

    // Writes one split's blocks; null when the stream is shorter than one block.
    private static TokenSplitInfo? WriteSplit(string folder, string fileName, string split, IReadOnlyList<string> documents,
        TokenCacheKey key, PretrainDataOptions o, ITokenizer tokenizer, IProgress<TokenizeProgress>? progress)
    {
        using var writer = new TokenFileWriter(Path.Combine(folder, fileName), key.DType);
        long stream = DocumentTokenizer.Tokenize(documents, tokenizer, key.SeparatorId, o.NumProc, writer, split, progress);
        long blocks = stream / o.SeqLen;
        if (blocks == 0) return null;
        writer.Commit(blocks * o.SeqLen);
        return new TokenSplitInfo(fileName, documents.Count, stream, checked((int)blocks), stream - blocks * o.SeqLen);
    }

    public void Dispose()
    {
        Train.Dispose();
        Validation?.Dispose();
    }
}
