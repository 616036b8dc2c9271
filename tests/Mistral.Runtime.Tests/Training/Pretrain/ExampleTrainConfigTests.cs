using Mistral.Runtime.Tests.Model;
using Mistral.Runtime.Tokenizer;
using Mistral.Runtime.Training.Pretrain;
using Mistral.Runtime.Training.Pretrain.Data;
using Mistral.Testing;
using Xunit;

namespace Mistral.Runtime.Tests.Training.Pretrain;

public sealed class ExampleTrainConfigTests
{
    private static readonly string Example = Path.Combine(Fixtures.Root, "..", "..", "examples", "train", "gpt2-micro.yaml");

    [Fact]
    public void GptMicroExample_LoadsAndItsCorpusTokenizes()
    {
        using var dir = new TempDir();
        var config = PretrainConfigLoader.Load(Example, [$"artifacts.cache_dir={dir.Path}"]);
        Assert.Equal(("gpt2-micro", 128, 1, 4), (config.Model.Id, config.Model.SeqLen, config.Training.GradientAccumulationSteps, config.Training.EffectiveBatchSize));
        Assert.Equal([0, 50, 100], config.Checkpoints.Steps(config.Training.MaxSteps));

        using var data = PretrainData.Prepare(PretrainDataOptions.From(config), TokenizerFiles.Load(config.Model.Tokenizer));
        Assert.Equal((248, 13, 0), (data.Manifest.Train.Documents, data.Manifest.Validation!.Documents, data.Manifest.BadLines));
        // 61,707 GPT-2 tokens in the 261 documents (also what `tokenize --jsonl` counts) plus one end-of-text token each.
        Assert.Equal(61_968, data.Manifest.Train.StreamTokens + data.Manifest.Validation.StreamTokens);
        Assert.Equal(data.Manifest.Train.StreamTokens / 128, data.Train.Count);
        Assert.Equal(data.Manifest.Validation.StreamTokens / 128, data.Validation!.Count);
        Assert.True(data.Train.Count > 400, $"{data.Train.Count} blocks"); // 314 KB of English: about 58k training tokens
    }
}
