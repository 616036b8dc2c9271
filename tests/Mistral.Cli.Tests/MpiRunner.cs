using System.Diagnostics;
using System.Text;
using Xunit;

namespace Mistral.Cli.Tests;

/// <summary>
/// Runs the built CLI (mistral-cu.dll beside this test assembly) as N ranks under OpenMPI's mpirun, as a user would:
/// `mpirun --allow-run-as-root --oversubscribe -np N dotnet mistral-cu.dll ...`. Tests skip, saying why, where there
/// is no mpirun (.ci/run installs Debian's openmpi-bin).
/// </summary>
public static class MpiRunner
{
    /// <summary>A tiny finetune under mpirun takes ~20 s on two busy cores; far more means a hang.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    public static string CliDll => Path.Combine(AppContext.BaseDirectory, "mistral-cu.dll");

    /// <summary>The path of mpirun, or skips the test with the reason.</summary>
    public static string RequireMpirun()
    {
        var found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, "mpirun")).FirstOrDefault(File.Exists);
        if (found is null) Assert.Skip("mpirun not found (install OpenMPI: apt-get install openmpi-bin; .ci/run does)");
        if (!File.Exists("/usr/lib/x86_64-linux-gnu/libmpi.so.40") && !File.Exists("/usr/lib/libmpi.so.40"))
            Assert.Skip("OpenMPI's libmpi.so.40 not found next to mpirun");
        return found;
    }

    public static Process Start(int ranks, params string[] cliArgs)
    {
        var info = new ProcessStartInfo(RequireMpirun())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "--allow-run-as-root", "--oversubscribe", "-np", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "dotnet", CliDll })
            info.ArgumentList.Add(a);
        foreach (var a in cliArgs) info.ArgumentList.Add(a);
        return Process.Start(info) ?? throw new InvalidOperationException("mpirun did not start");
    }

    /// <summary>Runs to the end (or kills the whole run past <see cref="Timeout"/> and fails).</summary>
    public static CliResult Run(int ranks, params string[] cliArgs)
    {
        using var process = Start(ranks, cliArgs);
        var (stdout, stderr) = Collect(process);
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"mpirun -np {ranks} did not finish within {Timeout}\n{stdout}\n{stderr}");
        }
        process.WaitForExit();
        return new CliResult(process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Reads stdout and stderr as they come (a full pipe would stall the ranks).</summary>
    public static (StringBuilder Out, StringBuilder Err) Collect(Process process)
    {
        var (stdout, stderr) = (new StringBuilder(), new StringBuilder());
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (stdout, stderr);
    }

    /// <summary>
    /// Starts a 2-rank run, kills rank 1 once <paramref name="metricsFile"/> holds three records, and asserts that rank 0
    /// then exits non-zero within a minute naming rank 1. Returns what the run printed.
    /// </summary>
    public static (string Out, string Err) KillRankOneMidRun(string metricsFile, params string[] cliArgs)
    {
        using var mpirun = Start(2, cliArgs);
        var (stdout, stderr) = Collect(mpirun);
        var clock = Stopwatch.StartNew();
        while (!mpirun.HasExited && clock.Elapsed < Timeout && (!File.Exists(metricsFile) || File.ReadAllLines(metricsFile).Length < 3))
            Thread.Sleep(200);
        Assert.False(mpirun.HasExited, $"the run ended before it could be interrupted\n{stdout}\n{stderr}");
        int victim = FindRank(mpirun, 1) ?? throw new InvalidOperationException("rank 1 not found among mpirun's children");
        Process.GetProcessById(victim).Kill();

        bool exited = mpirun.WaitForExit(TimeSpan.FromSeconds(60));
        if (!exited) mpirun.Kill(entireProcessTree: true);
        Assert.True(exited, $"rank 0 still running 60 s after rank 1 was killed\n{stdout}\n{stderr}");
        mpirun.WaitForExit();
        Assert.NotEqual(0, mpirun.ExitCode);
        Assert.Contains("rank 1", stderr.ToString(), StringComparison.Ordinal);
        return (stdout.ToString(), stderr.ToString());
    }

    /// <summary>The pid of the rank <paramref name="rank"/> process among mpirun's descendants (from its environment), or null.</summary>
    public static int? FindRank(Process mpirun, int rank)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid) || pid == mpirun.Id) continue;
            try
            {
                if (!IsDescendant(pid, mpirun.Id)) continue;
                var environ = File.ReadAllText(Path.Combine(dir, "environ")).Split('\0');
                if (environ.Contains($"OMPI_COMM_WORLD_RANK={rank}") && File.ReadAllText(Path.Combine(dir, "cmdline")).Contains("mistral-cu.dll", StringComparison.Ordinal))
                    return pid;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return null;
    }

    private static bool IsDescendant(int pid, int ancestor)
    {
        for (int i = 0; i < 8 && pid > 1; i++)
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            pid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
            if (pid == ancestor) return true;
        }
        return false;
    }
}
