using Mistral.Runtime.Tokenizer;
using Mistral.Runtime.Training.Config;

namespace Mistral.Runtime.Training.Data;

/// <summary>
/// The tokenized documents of a run: pretrain and instruct training files, and the eval set — eval_instruct_data when
/// given, else <see cref="DataConfig.EvalFraction"/> of the training documents held out with the seed.
/// </summary>
public sealed record TrainingData(IReadOnlyList<TokenizedDocument> Train, IReadOnlyList<TokenizedDocument> Eval, IReadOnlyList<BadLine> BadLines)
{
    public static TrainingData Load(DataConfig data, ITokenizer tokenizer, ulong seed)
    {
        if (tokenizer.BosId < 0 || tokenizer.EosId < 0) throw new ArgumentException("the tokenizer has no BOS or EOS id; training data needs both");
        var bad = new List<BadLine>();
        var docs = new List<TrainingDocument>();
        if (data.Data.Count > 0) docs.AddRange(Read(data.Data, instruct: false, data.MaxBadLineFraction, bad));
        if (data.InstructData.Count > 0) docs.AddRange(Read(data.InstructData, instruct: true, data.MaxBadLineFraction, bad));

        List<TrainingDocument> train, eval;
        if (data.EvalInstructData.Count > 0)
            (train, eval) = (docs, Read(data.EvalInstructData, instruct: true, data.MaxBadLineFraction, bad).ToList());
        else
            (train, eval) = DatasetSplit.Split(docs, data.EvalFraction, seed);

        TokenizedDocument Tokenize(TrainingDocument d) =>
            TokenizedDocument.From(d, text => tokenizer.Encode(text, bos: false), tokenizer.BosId, tokenizer.EosId);
        return new TrainingData(train.Select(Tokenize).ToList(), eval.Select(Tokenize).ToList(), bad);
    }

    private static IReadOnlyList<TrainingDocument> Read(IReadOnlyList<string> files, bool instruct, double maxBad, List<BadLine> bad)
    {
        var ds = JsonlDataset.Load(files, instruct, maxBad);
        bad.AddRange(ds.BadLines);
        return ds.Documents;
    }
}
