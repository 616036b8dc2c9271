namespace Mistral.Kernels.Distributed;

/// <summary>How an all-reduce combines the ranks' values: their sum, or their sum divided by the world size.</summary>
public enum ReduceOp
{
    Sum,
    Average,
}
