using Mistral.Testing;

namespace Mistral.Serving.Tests;

/// <summary>
/// The tiny-gpt2 fixture (Hugging Face layout) served like <see cref="TinyServer"/>: a GPT-2 tokenizer that adds no BOS,
/// EOS 50256, a hard limit of 64 positions (n_positions) and no chat template.
/// </summary>
public sealed class TinyGpt2Server() : TinyServer(Fixtures.TinyGpt2Hf, Gpt2ModelName, chatTemplate: true, rows: 16, SharedScheduling)
{
    public const string Gpt2ModelName = "tiny-gpt2";

    /// <summary>The fixture's n_positions.</summary>
    public const int PositionLimit = 64;
}
