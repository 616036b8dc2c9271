using Mistral.Runtime.Training.Data;
using Mistral.Runtime.Training.Pretrain;
using Xunit;

namespace Mistral.Runtime.Tests.Training.Pretrain;

public sealed class PretrainCheckpointTests : IDisposable
{
    private readonly string _run = Directory.CreateTempSubdirectory("pretrain-ckpt").FullName;

    public void Dispose() => Directory.Delete(_run, recursive: true);

    // Every file a checkpoint needs, with contents that name the step (the model files are the writer's; any bytes do here).
    private string Save(int step) => PretrainCheckpoint.Folders(_run).Write(step, folder =>
    {
        foreach (var name in new[] { PretrainCheckpoint.ModelConfigFile, PretrainCheckpoint.ModelFile, PretrainCheckpoint.OptimizerFile, PretrainCheckpoint.ConfigFile })
            File.WriteAllText(Path.Combine(folder, name), $"{name} of step {step}");
        new PretrainState(step, new DataLoaderPosition(0, step * 4), step * 512L, 7, 100, 1).Write(folder);
        new HfTrainerState(10, 1, 5, 4, 1) { GlobalStep = step }.Write(folder);
    });

    [Fact]
    public void Write_NamesFolderCheckpointN_LeavesNoTmp_AndVerifies()
    {
        var path = Save(0);
        Save(5);
        Assert.Equal(Path.Combine(_run, "checkpoint-0"), path);
        Assert.Equal([0, 5], PretrainCheckpoint.Folders(_run).List().Select(c => c.Step));
        Assert.Empty(Directory.GetDirectories(_run, "*.tmp"));
        PretrainCheckpoint.Verify(path);
        Assert.Equal(5, PretrainState.Read(Path.Combine(_run, "checkpoint-5")).Step);
        Assert.Equal(new DataLoaderPosition(0, 20), PretrainState.Read(Path.Combine(_run, "checkpoint-5")).DataPosition);
    }

    [Fact]
    public void LatestValid_FlippedByteInNewest_ReportsItAndFallsBackToThePrevious()
    {
        Save(5);
        var newest = Save(10);
        var model = Path.Combine(newest, PretrainCheckpoint.ModelFile);
        var bytes = File.ReadAllBytes(model);
        bytes[3] ^= 0x01;
        File.WriteAllBytes(model, bytes);

        var skipped = new List<(string Path, string Why)>();
        var latest = PretrainCheckpoint.Folders(_run).LatestValid((p, why) => skipped.Add((p, why)));

        Assert.Equal(Path.Combine(_run, "checkpoint-5"), latest);
        var (path, why) = Assert.Single(skipped);
        Assert.Equal(newest, path);
        Assert.Contains("model.safetensors", why);
        Assert.Contains("SHA-256", why);
    }

    [Fact]
    public void LatestValid_NewestWithoutManifest_IsSkipped()
    {
        Save(5);
        var newest = Save(10);
        File.Delete(Path.Combine(newest, "manifest.json")); // a folder that never got its manifest is not a checkpoint
        Assert.Equal(Path.Combine(_run, "checkpoint-5"), PretrainCheckpoint.Folders(_run).LatestValid());
    }

    [Fact]
    public void RemoveLeftovers_KilledMidCheckpoint_DeletesTheTmpFolderOnly()
    {
        Save(5);
        var half = Path.Combine(_run, "checkpoint-10.tmp");
        Directory.CreateDirectory(half);
        File.WriteAllText(Path.Combine(half, PretrainCheckpoint.ModelFile), "half");

        Assert.Equal(["checkpoint-10.tmp"], PretrainCheckpoint.Folders(_run).RemoveLeftovers());
        Assert.False(Directory.Exists(half));
        Assert.Equal([5], PretrainCheckpoint.Folders(_run).List().Select(c => c.Step));
        Assert.Equal(Path.Combine(_run, "checkpoint-5"), PretrainCheckpoint.Folders(_run).LatestValid());
    }
}
