namespace Mistral.Bench;

/// <summary>What `bench train --model` measures: full-parameter optimizer steps of Batch blocks of SeqLen tokens.</summary>
public sealed record FullTrainBenchOptions(int SeqLen = 1024, int Batch = 8, int Repetitions = 3);
