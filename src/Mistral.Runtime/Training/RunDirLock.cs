using System.Globalization;

namespace Mistral.Runtime.Training;

/// <summary>
/// One training process per run_dir: two would interleave metrics.jsonl and overwrite each other's checkpoints.
/// run_dir/.lock is held open with an exclusive OS lock for the whole run, so the lock goes with the process however it
/// ends (kill -9 included: a lock file left behind is stale by construction and is simply taken over). Who holds it
/// (pid, host, start time) is written beside it in .lock.owner, for the message the second process prints.
/// </summary>
public sealed class RunDirLock : IDisposable
{
    public const string LockFile = ".lock";
    public const string OwnerFile = ".lock.owner";

    private readonly FileStream _lock;
    private readonly string _owner;

    private RunDirLock(FileStream handle, string owner)
    {
        _lock = handle;
        _owner = owner;
    }

    /// <summary>Takes the run directory (creating it), or throws <see cref="RunDirLockedException"/> naming the holder.</summary>
    public static RunDirLock Acquire(string runDir)
    {
        Directory.CreateDirectory(runDir);
        string lockPath = Path.Combine(runDir, LockFile), ownerPath = Path.Combine(runDir, OwnerFile);
        FileStream handle;
        try
        {
            // FileShare.None is an exclusive flock on Unix and a sharing lock on Windows; either is released by the OS at exit.
            handle = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            string holder = File.Exists(ownerPath) ? File.ReadAllText(ownerPath).Trim() : "another process";
            throw new RunDirLockedException(runDir, holder);
        }
        var self = $"pid {Environment.ProcessId} on host {Environment.MachineName} since {DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture)}";
        File.WriteAllText(ownerPath, self + Environment.NewLine);
        return new RunDirLock(handle, ownerPath);
    }

    public void Dispose()
    {
        try { File.Delete(_owner); }
        catch (IOException) { }
        _lock.Dispose();
    }
}
