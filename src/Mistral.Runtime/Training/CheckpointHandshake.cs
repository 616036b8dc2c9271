using Mistral.Kernels.Distributed;

namespace Mistral.Runtime.Training;

/// <summary>
/// How the ranks of a data-parallel run write one checkpoint folder together (finetune's step_N and train's
/// checkpoint-N alike): rank 0 creates the .tmp folder and writes its files; first barrier; every other rank writes its
/// optimizer part there (ZeRO-1 shards); second barrier; only then does rank 0 seal the manifest and rename the folder,
/// so a crash at any point leaves no folder that looks complete.
/// </summary>
public static class CheckpointHandshake
{
    /// <summary>Rank 0's side: run between writing its own files and sealing the manifest.</summary>
    public static Action Leader(ICommunicator comm) => () =>
    {
        comm.Barrier();
        comm.Barrier();
    };

    /// <summary>Every other rank's side: its optimizer part into rank 0's .tmp folder, between the two barriers.</summary>
    public static void Follower(ICommunicator comm, IDataParallelOptimizer optimizer, string tempFolder)
    {
        comm.Barrier();
        optimizer.WriteState(tempFolder);
        comm.Barrier();
    }
}
