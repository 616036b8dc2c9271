using System.Globalization;
using Mistral.Kernels.Distributed;

namespace Mistral.Cli.Commands;

/// <summary>
/// Reads where this process stands in a data-parallel run from what OpenMPI's mpirun exports
/// (OMPI_COMM_WORLD_RANK, _SIZE, _LOCAL_RANK); without them the process is a world of one and MPI is never loaded.
/// Another launcher's variables (MPICH/Slurm PMI_RANK) are refused by name: only OpenMPI is supported.
/// </summary>
internal static class WorldEnvironment
{
    public static WorldOptions Read(double collectiveTimeoutSeconds)
    {
        var timeout = collectiveTimeoutSeconds > 0
            ? TimeSpan.FromSeconds(collectiveTimeoutSeconds)
            : throw new ArgumentException($"--collective-timeout {collectiveTimeoutSeconds}: expected a number of seconds > 0");
        int? size = Int("OMPI_COMM_WORLD_SIZE");
        if (size is null)
        {
            if (Int("PMI_SIZE") is > 1)
                throw new ArgumentException("started by a non-OpenMPI launcher (PMI_SIZE is set, OMPI_COMM_WORLD_SIZE is not): data-parallel runs need OpenMPI's mpirun");
            return WorldOptions.Single with { CollectiveTimeout = timeout };
        }
        int rank = Int("OMPI_COMM_WORLD_RANK") ?? throw new ArgumentException("OMPI_COMM_WORLD_SIZE is set but OMPI_COMM_WORLD_RANK is not");
        return new WorldOptions(rank, size.Value, Int("OMPI_COMM_WORLD_LOCAL_RANK") ?? 0, ForceMpi: false, timeout);
    }

    /// <summary>"rank R: " under mpirun with more than one rank, else "": what this process's error lines start with.</summary>
    public static string ErrorSource() =>
        Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is { Length: > 0 } size && size != "1"
            ? $"rank {Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_RANK")}: "
            : "";

    private static int? Int(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
        ? int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : throw new ArgumentException($"{name}={value}: expected a whole number")
        : null;
}
