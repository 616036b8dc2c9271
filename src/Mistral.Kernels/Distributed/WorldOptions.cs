namespace Mistral.Kernels.Distributed;

/// <summary>
/// Where this process stands in a data-parallel run, as the launcher told it (the CLI reads mpirun's
/// OMPI_COMM_WORLD_RANK / _SIZE / _LOCAL_RANK; nothing below the CLI reads the environment). WorldSize 1 without
/// <see cref="ForceMpi"/> is a plain single process: no native library is loaded. CollectiveTimeout bounds every wait
/// on the other ranks; past it the rank aborts the whole run with a message saying what it was waiting for.
/// </summary>
public sealed record WorldOptions(int Rank, int WorldSize, int LocalRank, bool ForceMpi, TimeSpan CollectiveTimeout)
{
    /// <summary>Long enough for rank 0's evaluation or checkpoint while the others wait at the next collective.</summary>
    public static readonly TimeSpan DefaultCollectiveTimeout = TimeSpan.FromMinutes(10);

    public static WorldOptions Single { get; } = new(0, 1, 0, false, DefaultCollectiveTimeout);

    public bool IsDistributed => WorldSize > 1 || ForceMpi;
}
