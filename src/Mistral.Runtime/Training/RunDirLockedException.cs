namespace Mistral.Runtime.Training;

/// <summary>A run directory another training process is using; names the holder.</summary>
public sealed class RunDirLockedException(string runDir, string holder)
    : Exception($"{runDir}: run directory is in use by {holder}; wait for it to finish, stop it, or choose another run_dir")
{
    public string Holder { get; } = holder;
}
