using System.Diagnostics;
using System.Runtime.InteropServices;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Cache;
using Mistral.Runtime.Model;
using Mistral.Runtime.Models;

namespace Mistral.Runtime.Generation;

/// <summary>
/// mistral-src generate(): prefill every prompt of the batch (in chunks when asked), then decode all sequences in
/// lockstep, one token each per step, through a rolling KV cache. Sampling happens on the host from the downloaded
/// last-token logits, except plain greedy decoding on ops whose tensors live on a device (CUDA, emulated;
/// <see cref="Kernels.Ops.IOps.OnDevice"/>) with no logprobs asked for: there argmax runs on the device (<see cref="DeviceArgmaxDecoder"/>) and only the chosen ids come back per step. A sequence leaves the batch when it stops (EOS, a stop request, MaxTokens); the others go on.
/// Works for any family (<see cref="ICausalLm"/>). One Generate call at a time per instance (it reuses the model's
/// buffers and its own host buffer).
/// </summary>
public sealed class Generator(ICausalLm model)
{
    private float[] _host = [];
    private int _logitsDownloads;

    public ICausalLm Model { get; } = model;

    public GenerationResult Generate(IReadOnlyList<int[]> prompts, GenerationOptions options, TokenCallback? onToken = null)
    {
        var config = Model.Config;
        Validate(prompts, options);
        int batchSize = prompts.Count, vocab = config.VocabSize;
        int longest = prompts.Max(p => p.Length);
        int slots = options.CacheSlots ?? RollingKvCache.SlotsFor(config, longest, options.MaxTokens);
        CheckPrefillMemory(prompts, options);
        using var cache = new RollingKvCache(Model.Ops, config, batchSize, slots);
        // Greedy on a device keeps the logits there: argmax on the device, only the ids come back (the CPU's tensors
        // are host memory already: no copy to spare).
        using var device = options.NeedsOnlyArgmax && Model.Ops.OnDevice is { } onDevice ? new DeviceArgmaxDecoder(Model, onDevice, cache) : null;
        _logitsDownloads = 0;

        var history = prompts.Select(p => new List<int>(p)).ToArray();
        var generated = Enumerable.Range(0, batchSize).Select(_ => new List<int>()).ToArray();
        var logprobs = Enumerable.Range(0, batchSize).Select(_ => new List<float>()).ToArray();
        var promptLogprobs = options.PromptLogprobs ? prompts.Select(p => new float[p.Length - 1]).ToArray() : null;
        var finish = new FinishReason?[batchSize];
        var samplers = Enumerable.Range(0, batchSize).Select(b => new Sampler(options.Sampling, b)).ToArray();
        // Host path: each sequence's last-token logits [B][V]. Device path: its greedy next token [B] instead.
        var lastLogits = device is null ? Enumerable.Range(0, batchSize).Select(_ => new float[vocab]).ToArray() : null;
        var nextTokens = new int[batchSize];

        var clock = Stopwatch.StartNew();
        Prefill(prompts, options, cache, (logits, rows) =>
        {
            if (device is null) DownloadRows(logits, rows, lastLogits!);
            else device.TakeArgmax(logits, rows, nextTokens);
        }, lastLogits, promptLogprobs);
        var prefillTime = clock.Elapsed;

        clock.Restart();
        var active = new List<int>();
        for (int b = 0; b < batchSize; b++)
            if (options.MaxTokens > 0 && !AtContextLimit(history[b].Count)) active.Add(b);
            else finish[b] = FinishReason.Length;
        while (active.Count > 0)
        {
            var next = new List<int>();      // sequences that go on, and the token each feeds back
            var fedBack = new List<int>();
            foreach (int b in active)
            {
                if (lastLogits is not null && options.SampleableVocab is int sampleable && sampleable < vocab)
                    lastLogits[b].AsSpan(sampleable).Fill(float.NegativeInfinity); // padding rows: never sampled
                int token = lastLogits is null ? nextTokens[b] : samplers[b].Sample(lastLogits[b], CollectionsMarshal.AsSpan(history[b]));
                history[b].Add(token);
                generated[b].Add(token);
                if (options.TokenLogprobs) logprobs[b].Add(LogSoftmax.LogProb(lastLogits![b], token));
                bool keepGoing = onToken?.Invoke(b, token) ?? true;
                if (token == options.EosId) finish[b] = FinishReason.Eos;
                else if (!keepGoing) finish[b] = FinishReason.Stop;
                else if (generated[b].Count == options.MaxTokens || AtContextLimit(history[b].Count)) finish[b] = FinishReason.Length;
                else { next.Add(b); fedBack.Add(token); }
            }
            // The reference runs one more (unused) forward after its last token; a finished sequence simply leaves the batch.
            if (next.Count == 0) break;
            if (device is not null)
            {
                device.Step(next, fedBack.ToArray(), nextTokens);
            }
            else
            {
                var batch = cache.NextBatch(next, Enumerable.Repeat(1, next.Count).ToArray());
                DownloadRows(Model.Forward(fedBack.ToArray(), batch, cache, LogitsFor.LastTokens), next, lastLogits!);
            }
            active = next;
        }
        var decodeTime = clock.Elapsed;

        var outputs = new SequenceOutput[batchSize];
        for (int b = 0; b < batchSize; b++)
            outputs[b] = new SequenceOutput(prompts[b], [.. generated[b]], [.. logprobs[b]], promptLogprobs?[b], finish[b] ?? FinishReason.Length);
        var timings = new GenerationTimings(prompts.Sum(p => p.Length), prefillTime, generated.Sum(g => g.Count), decodeTime);
        return new GenerationResult(outputs, timings)
        {
            Path = device is null ? DecodePath.HostLogits : DecodePath.DeviceArgmax,
            LogitsDownloads = _logitsDownloads,
        };
    }

    /// <summary>
    /// Runs the prompts through the model in chunks cut at the same offsets for every prompt; a prompt that is used up
    /// simply has no tokens in later chunks. Hands each chunk's last-token logits [R, V] with their sequences to
    /// takeLast (a prompt's last chunk is the one that counts); with prompt logprobs, the logits of every position
    /// come to the host instead and each sequence's last row goes to lastLogits.
    /// </summary>
    private void Prefill(IReadOnlyList<int[]> prompts, GenerationOptions options, RollingKvCache cache,
        Action<Tensor, IReadOnlyList<int>> takeLast, float[][]? lastLogits, float[][]? promptLogprobs)
    {
        int longest = prompts.Max(p => p.Length);
        int chunk = options.ChunkSize ?? longest;
        var logitsFor = promptLogprobs is null ? LogitsFor.LastTokens : LogitsFor.AllTokens;
        for (int offset = 0; offset < longest; offset += chunk)
        {
            var rows = new List<int>();
            var lengths = new List<int>();
            var tokens = new List<int>();
            for (int b = 0; b < prompts.Count; b++)
            {
                int length = Math.Min(chunk, prompts[b].Length - offset);
                if (length <= 0) continue;
                rows.Add(b);
                lengths.Add(length);
                tokens.AddRange(prompts[b].AsSpan(offset, length));
            }
            var batch = cache.NextBatch(rows, lengths);
            var logits = Model.Forward(tokens.ToArray(), batch, cache, logitsFor);
            if (promptLogprobs is null)
            {
                takeLast(logits, rows);
                continue;
            }
            var all = DownloadAll(logits);                                    // [T, V]
            int vocab = Model.Config.VocabSize;
            for (int i = 0; i < rows.Count; i++)
            {
                int b = rows[i];
                for (int t = 0; t < lengths[i]; t++)
                {
                    var row = all.Slice((batch.TokenOffsets[i] + t) * vocab, vocab);
                    int position = offset + t;                                // row predicts position + 1
                    if (position + 1 < prompts[b].Length) promptLogprobs[b][position] = LogSoftmax.LogProb(row, prompts[b][position + 1]);
                    else row.CopyTo(lastLogits![b]);
                }
            }
        }
    }

    /// <summary>Row i of logits [R, V] goes to lastLogits[rows[i]].</summary>
    private void DownloadRows(Tensor logits, IReadOnlyList<int> rows, float[][] lastLogits)
    {
        int vocab = Model.Config.VocabSize;
        var host = DownloadAll(logits);
        for (int i = 0; i < rows.Count; i++) host.Slice(i * vocab, vocab).CopyTo(lastLogits[rows[i]]);
    }

    /// <summary>The whole tensor on the host, in a buffer reused across steps (a fresh [B, V] array per token would be a large-object allocation).</summary>
    private Span<float> DownloadAll(Tensor logits)
    {
        int count = checked((int)logits.ElementCount);
        if (_host.Length < count) _host = new float[count];
        var host = _host.AsSpan(0, count);
        Model.Ops.Download(logits, host);
        _logitsDownloads++;
        return host;
    }

    /// <summary>
    /// The activations of the largest prefill chunk, at least (residual, norms, q/k/v/attention out, the three MLP
    /// projections, and the logits that come back), checked before the first allocation: a 2M-token prompt on a model
    /// without a stated context is refused at once with the sizes, not after minutes in an out-of-memory error.
    /// </summary>
    private void CheckPrefillMemory(IReadOnlyList<int[]> prompts, GenerationOptions options)
    {
        var c = Model.Config;
        int chunk = options.ChunkSize ?? prompts.Max(p => p.Length);
        double tokens = prompts.Sum(p => (double)Math.Min(chunk, p.Length));
        double perToken = 4.0 * c.Width + 2.0 * c.Heads * c.HeadDim + 2.0 * c.KvHeads * c.HeadDim + 3.0 * c.FeedForwardWidth;
        double logitsRows = options.PromptLogprobs ? tokens : prompts.Count;
        double bytes = tokens * perToken * Model.Ops.ActivationDType.SizeOf() + logitsRows * c.VocabSize * 2 * sizeof(float);
        Devices.MemoryBudget.Require(Model.Ops, $"prefilling {tokens:N0} prompt tokens (chunks of {chunk:N0}; --chunk-size makes them smaller)", bytes);
    }

    private bool AtContextLimit(int length) => Model.Config.ContextLength is int context && length >= context;

    /// <summary>Throws what <see cref="Generate"/> would refuse (empty or over-long prompts, bad options), before any work.</summary>
    public void Validate(IReadOnlyList<int[]> prompts, GenerationOptions options)
    {
        if (prompts.Count == 0) throw new ArgumentException("generate: no prompts");
        options.Validate();
        for (int b = 0; b < prompts.Count; b++)
        {
            if (prompts[b].Length == 0) throw new ArgumentException($"generate: prompt {b} is empty");
            if (Model.Config.ContextLength is int context && prompts[b].Length > context)
                throw new ArgumentException($"generate: prompt {b} has {prompts[b].Length} tokens, longer than the model's context of {context}");
            if (Model.Config.PositionLimit is int limit && prompts[b].Length + options.MaxTokens > limit)
                throw new ArgumentException($"generate: prompt {b} has {prompts[b].Length} tokens and up to {options.MaxTokens} more are asked for " +
                    $"({prompts[b].Length + options.MaxTokens} positions), but the model has {limit} positions (n_positions); ask for at most {Math.Max(0, limit - prompts[b].Length)} tokens");
        }
    }
}
