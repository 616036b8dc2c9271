using Mistral.Runtime.Tokenizer;

namespace Mistral.Runtime.Training.Pretrain.Data;

/// <summary>
/// What <see cref="PretrainData.Prepare"/> needs: the corpus files (absolute), the split, the block length, the cache
/// folder, and the tokenizer's files (hashed into the cache key). Without ValidationFiles, ValidationRatio of the
/// training documents is held out with Seed (0: no validation split).
/// </summary>
public sealed record PretrainDataOptions(
    IReadOnlyList<string> TrainFiles,
    IReadOnlyList<string> ValidationFiles,
    double ValidationRatio,
    ulong Seed,
    int SeqLen,
    int NumProc,
    double MaxBadLineFraction,
    string CacheDir,
    IReadOnlyList<string> TokenizerFiles)
{
    public static PretrainDataOptions From(PretrainConfig config) => new(
        config.Dataset.TrainFiles, config.Dataset.ValidationFiles, config.Dataset.ValidationRatio, config.Seed,
        config.Model.SeqLen, config.Dataset.NumProc, config.Dataset.MaxBadLineFraction, config.CacheDir,
        FilesOfTokenizer(config.Model.Tokenizer));

    /// <summary>The files that define the tokenizer <see cref="TokenizerFiles.Load"/> reads for <paramref name="path"/> (GPT-2: vocab.json and merges.txt).</summary>
    public static IReadOnlyList<string> FilesOfTokenizer(string path)
    {
        var file = Path.GetFullPath(Tokenizer.TokenizerFiles.Resolve(path));
        var name = Path.GetFileName(file);
        if (name is not (Gpt2ByteLevelBpe.VocabFileName or Gpt2ByteLevelBpe.MergesFileName)) return [file];
        var dir = Path.GetDirectoryName(file)!;
        return [Path.Combine(dir, Gpt2ByteLevelBpe.VocabFileName), Path.Combine(dir, Gpt2ByteLevelBpe.MergesFileName)];
    }
}
