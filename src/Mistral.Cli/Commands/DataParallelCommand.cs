using System.CommandLine;
using Mistral.Cli.Console;
using Mistral.Kernels.Distributed;

namespace Mistral.Cli.Commands;

/// <summary>What `train` and `finetune` share under mpirun: the --collective-timeout option, the banner's rank count and
/// the rule that a rank's error names the rank and ends the whole run.</summary>
internal static class DataParallelCommand
{
    public static Option<double> CollectiveTimeout(string waitsFor = "the others") => new("--collective-timeout")
    {
        Description = $"Under mpirun: seconds a rank waits for {waitsFor} before aborting the run",
        DefaultValueFactory = _ => WorldOptions.DefaultCollectiveTimeout.TotalSeconds,
    };

    /// <summary>" × N ranks (mpi)" on more than one rank, else "".</summary>
    public static string Ranks(ICommunicator comm) => comm.WorldSize > 1 ? $" × {comm.WorldSize} ranks ({comm.Name})" : "";

    /// <summary>Runs <paramref name="body"/>; on more than one rank an error prints one line naming this rank, then
    /// MPI_Abort makes the launcher end every other rank at once.</summary>
    public static int AbortAllOnError(ICommunicator comm, TextWriter error, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (comm.WorldSize > 1 && e is not OutOfMemoryException)
        {
            error.WriteLine($"error: rank {comm.Rank}: {e.Message}");
            comm.Abort(ExitCodes.BadInput);
            throw;
        }
    }
}
