using Mistral.Runtime.Models.Gpt2;
using Mistral.Runtime.Models.Mistral;
using Mistral.Runtime.Training.Pretrain;
using Xunit;

namespace Mistral.Runtime.Tests.Training.Pretrain;

public sealed class TrainingFlopsTests
{
    // GPT-2 124M: 124,439,808 parameters (HF num_parameters()), of which wpe is 1024·768 = 786,432 (a lookup, no
    // product); the tied wte counts once, as the head's product. N = 123,653,376 (nanoGPT's "123.65M").
    // Per token at T = 1024: 6·123,653,376 + 12·12·1024·768 = 741,920,256 + 113,246,208 = 855,166,464.
    [Fact]
    public void PerToken_Gpt2SmallAt1024_MatchesHandComputation()
    {
        var gpt2 = Gpt2Config.Small;
        Assert.Equal(124_439_808, gpt2.ParameterCount);
        Assert.Equal(123_653_376, TrainingFlops.MatmulParameters(gpt2));
        Assert.Equal(855_166_464.0, TrainingFlops.PerToken(gpt2, 1024));
    }

    // An untied Mistral shape: the input embedding is a lookup, the separate output head a product.
    // dim 256, 2 layers, head_dim 64, 4 heads, 2 kv heads, hidden 768, vocab 32000:
    // per layer 256·256·2 + 256·128·2 (q, o, k, v) + 3·256·768 + 2·256 = 131,072 + 65,536 + 589,824 + 512 = 786,944;
    // N = 2·786,944 + 256 (final norm) + 32000·256 (head) = 9,766,144; at T = 255: 6N + 12·2·255·256 = 58,596,864 + 1,566,720.
    [Fact]
    public void PerToken_UntiedMistral_CountsTheHeadNotTheEmbedding()
    {
        var tiny = new MistralConfig(256, 2, 64, 768, 4, 2, null, 1e-5f, 32000, 10000);
        Assert.Equal(9_766_144, TrainingFlops.MatmulParameters(tiny));
        Assert.Equal(60_163_584.0, TrainingFlops.PerToken(tiny, 255));
    }

    // 500k tok/s of GPT-2 124M at 1024 on a 989 TFLOP/s H100: 500,000 · 855,166,464 / 989e12 = 0.43234…
    [Fact]
    public void Mfu_KnownPeak_AchievedOverPeak_UnknownPeakIsNull()
    {
        Assert.Equal(0.432339, TrainingFlops.Mfu(500_000, 855_166_464, 989e12)!.Value, 6);
        Assert.Null(TrainingFlops.Mfu(500_000, 855_166_464, null));
    }
}
