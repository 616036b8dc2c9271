namespace Mistral.Runtime.Generation;

/// <summary>
/// Settings of one <see cref="Generator.Generate"/> call.
/// ChunkSize: prefill cuts every prompt at offsets 0, c, 2c, … (null = each prompt in one piece).
/// CacheSlots: positions kept per sequence (null = min(longest prompt + MaxTokens, window), mistral-src's choice).
/// EosId: stop a sequence when it produces this id (null = never, as the reference generate() does).
/// PromptLogprobs: also report the logprob of every prompt token after the first, as the reference's generate()
/// does; this computes logits for every prompt token instead of only the last one.
/// TokenLogprobs: report the logprob of every generated token (SequenceOutput.Logprobs; empty when off). It needs each
/// step's logits on the host, so greedy decoding on a device uses on-device argmax only when it is off.
/// </summary>
public sealed record GenerationOptions
{
    public int MaxTokens { get; init; } = 128;
    public SamplingOptions Sampling { get; init; } = SamplingOptions.Greedy;
    public int? ChunkSize { get; init; }
    public int? CacheSlots { get; init; }
    public int? EosId { get; init; }
    public bool PromptLogprobs { get; init; }
    public bool TokenLogprobs { get; init; } = true;

    /// <summary>
    /// Ids at or past this are never sampled (null = every embedding row may be): the padding rows of an embedding
    /// padded past the tokenizer (<see cref="Model.LoadedModel.SampleableVocab"/>) have no text.
    /// </summary>
    public int? SampleableVocab { get; init; }

    /// <summary>
    /// True when the next token is the plain argmax of the logits and nobody asked to see them: greedy without a
    /// repetition penalty (top-k, top-p and min-p always keep the argmax), and no logprobs.
    /// </summary>
    public bool NeedsOnlyArgmax => Sampling.IsGreedy && Sampling.RepetitionPenalty == 1f && !TokenLogprobs && !PromptLogprobs && SampleableVocab is null;

    /// <summary>Throws ArgumentException naming the first out-of-range setting.</summary>
    public void Validate()
    {
        if (MaxTokens < 0) throw new ArgumentException($"max tokens must be >= 0, got {MaxTokens}");
        if (ChunkSize is <= 0) throw new ArgumentException($"chunk size must be > 0, got {ChunkSize}");
        if (CacheSlots is <= 0) throw new ArgumentException($"cache slots must be > 0, got {CacheSlots}");
        if (SampleableVocab is <= 0) throw new ArgumentException($"sampleable vocabulary must be > 0, got {SampleableVocab}");
        Sampling.Validate();
    }
}
