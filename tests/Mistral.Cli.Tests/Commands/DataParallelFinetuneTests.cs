using System.Text.Json;
using Mistral.Runtime.Model;
using Mistral.Runtime.Training;
using Mistral.Testing;
using Xunit;
using static Mistral.Cli.Tests.SafeTensorsCompare;

namespace Mistral.Cli.Tests.Commands;

/// <summary>
/// `mpirun -np N mistral-cu finetune` on CPU ranks (the MPI communicator: the trainer's distributed path without a GPU)
/// against one process, on the tiny fixture model and the example instruct data.
/// </summary>
public sealed class DataParallelFinetuneTests : IDisposable
{
    /// <summary>
    /// World 2 × 1 micro-batch vs world 1 × 2 with trained norms: the same samples, but RMSNorm's dWeight is (g0 + g1)
    /// summed by MPI instead of accumulated row by row onto g0 inside the backward kernel, so fp32 rounding differs in
    /// the last bits: measured, step-1 loss identical, grad norms 1.3e-8 relative apart, losses ≤ 5e-9.
    /// Weights then drift further than that, because Adam divides by √v: an element whose gradient is itself rounding
    /// noise (LoRA A while B is still ~0) moves by up to ~lr either way. Measured after 3 steps at lr 1e-2: at most
    /// 6.8e-6 absolute (lora_A of wo). The losses and grad norms, sums over every parameter, are the sharp check.
    /// </summary>
    private const double LossRelativeTolerance = 1e-7, WeightTolerance = 1e-4;

    private readonly string _dir = Directory.CreateTempSubdirectory("dp-finetune").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string ExampleConfig => Path.Combine(Fixtures.Root, "..", "..", "examples", "finetune", "tiny.yaml");

    private string[] Args(string run, int steps = 3, params string[] more) =>
    [
        "finetune", ExampleConfig, "--set", $"run_dir={Path.Combine(_dir, run)}", "--set", $"max_steps={steps}",
        "--set", "num_microbatches=2", "--set", "batch_size=1", "--set", "seq_len=32", "--set", "no_eval=true",
        "--set", $"ckpt_freq={steps}", "--device", "cpu", .. more,
    ];

    /// <summary>
    /// LoRA adapters only: each adapter gradient of a micro-batch is one GEMM, so world 1 accumulating g1 onto g0 and
    /// MPI summing g0 + g1 round identically: the two runs agree bit for bit.
    /// </summary>
    [Fact]
    public void Finetune_AdaptersOnlyWorld2Accumulation1_BitIdenticalToWorld1Accumulation2()
    {
        MpiRunner.RequireMpirun();
        var single = CliRunner.Run([.. Args("single"), "--set", "lora.train_norms=false"]);
        Assert.True(single.ExitCode == 0, single.ToString());
        var world2 = MpiRunner.Run(2, [.. Args("world2"), "--set", "lora.train_norms=false"]);
        Assert.True(world2.ExitCode == 0, world2.ToString());
        foreach (var file in new[] { TrainingCheckpoint.LoraFile, TrainingCheckpoint.OptimizerFile })
            Assert.True(File.ReadAllBytes(Checkpoint("single", 3, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Checkpoint("world2", 3, file))),
                $"{file} differs between world 1 × 2 and world 2 × 1");
        foreach (var key in new[] { "train_loss", "grad_norm" })
            Assert.Equal(Losses("single").Select(e => e.GetProperty(key).GetDouble()), Losses("world2").Select(e => e.GetProperty(key).GetDouble()));
    }

    [Fact]
    public void Finetune_World2Accumulation1_MatchesWorld1Accumulation2AndRepeatsBitForBit()
    {
        MpiRunner.RequireMpirun();
        var single = CliRunner.Run(Args("single"));
        Assert.True(single.ExitCode == 0, single.ToString());
        var first = MpiRunner.Run(2, Args("world2"));
        Assert.True(first.ExitCode == 0, first.ToString());
        var again = MpiRunner.Run(2, Args("world2-again"));
        Assert.True(again.ExitCode == 0, again.ToString());

        // Only rank 0 prints progress (one "step 3/3" line) and writes metrics.
        Assert.Single(first.OutLines, l => l.StartsWith("step     3/3 | loss", StringComparison.Ordinal));
        AssertClose(Losses("single"), Losses("world2"), "train_loss");
        AssertClose(Losses("single"), Losses("world2"), "grad_norm");
        var (maxAbs, where) = MaxDifference(Trained("single"), Trained("world2"));
        Assert.True(maxAbs <= WeightTolerance, $"world 2 vs world 1: {where} differs by {maxAbs:E2} (tolerance {WeightTolerance:E0})");
        TestContext.Current.TestOutputHelper?.WriteLine($"world 2 x 1 vs world 1 x 2: max |dw| = {maxAbs:E2} at {where}");

        foreach (var file in new[] { TrainingCheckpoint.LoraFile, TrainingCheckpoint.NormsFile, TrainingCheckpoint.OptimizerFile })
            Assert.True(File.ReadAllBytes(Checkpoint("world2", 3, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Checkpoint("world2-again", 3, file))),
                $"{file} differs between two world-2 runs");
    }

    [Fact]
    public void Finetune_ThreeRanksTwoMicrobatches_RunsUnevenSharesAndMatchesOneProcess()
    {
        MpiRunner.RequireMpirun();
        var single = CliRunner.Run(Args("single", steps: 2));
        Assert.True(single.ExitCode == 0, single.ToString());
        var three = MpiRunner.Run(3, Args("world3", steps: 2));
        Assert.True(three.ExitCode == 0, three.ToString());
        Assert.Contains(three.OutLines, l => l.StartsWith("note: 2 micro-batches per step over 3 ranks", StringComparison.Ordinal));
        AssertClose(Losses("single"), Losses("world3"), "train_loss");
        var (maxAbs, where) = MaxDifference(Trained("single", 2), Trained("world3", 2));
        Assert.True(maxAbs <= WeightTolerance, $"world 3 vs world 1: {where} differs by {maxAbs:E2}");
    }

    [Fact]
    public void Finetune_OneRankKilledMidRun_OtherExitsNonZeroAndOnlyCompleteCheckpointsRemain()
    {
        MpiRunner.RequireMpirun();
        var run = Path.Combine(_dir, "killed");
        MpiRunner.KillRankOneMidRun(Path.Combine(run, "metrics.jsonl"), [.. Args("killed", steps: 400), "--set", "ckpt_freq=1", "--set", "keep_last_checkpoints=3"]);

        var checkpoints = TrainingCheckpoint.Folders(run).List();
        Assert.NotEmpty(checkpoints);
        foreach (var (step, path) in checkpoints)
        {
            Assert.Equal(step, TrainingCheckpoint.ReadState(path).Step);
            Assert.NotEmpty(TrainingCheckpoint.ReadTrained(path));
            Assert.NotEmpty(SafeTensorsFile.ReadAll(Path.Combine(path, TrainingCheckpoint.OptimizerFile)));
        }

        // --resume continues from the last complete checkpoint, here in one process.
        int last = checkpoints[^1].Step;
        var resumed = CliRunner.Run([.. Args("killed", steps: last + 1), "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains(resumed.OutLines, l => l.StartsWith($"resumed from {checkpoints[^1].Path} (step {last})", StringComparison.Ordinal));
        Assert.True(Directory.Exists(TrainingCheckpoint.Folders(run).PathOf(last + 1)));
    }

    /// <summary>
    /// ZeRO-1 reduces each gradient to its owner (MPI_Reduce, a + b for two ranks) where ZeRO-0 all-reduces it (the same
    /// MPI_Reduce then a broadcast), and gathers the exact per-tensor sums of squares for the norm, so the two agree bit
    /// for bit: losses, grad norms, adapters, norms and every AdamW moment (measured: 0 difference). Against one process
    /// the usual fp32 rounding of summed norm gradients applies (<see cref="WeightTolerance"/>).
    /// </summary>
    [Fact]
    public void Finetune_Zero1World2_BitIdenticalToZero0World2AndCloseToOneProcess()
    {
        MpiRunner.RequireMpirun();
        var zero0 = MpiRunner.Run(2, Args("zero0"));
        Assert.True(zero0.ExitCode == 0, zero0.ToString());
        var zero1 = MpiRunner.Run(2, [.. Args("zero1"), "--set", "zero_stage=1"]);
        Assert.True(zero1.ExitCode == 0, zero1.ToString());
        var single = CliRunner.Run(Args("single"));
        Assert.True(single.ExitCode == 0, single.ToString());

        Assert.Contains(zero1.OutLines, l => l.StartsWith("ZeRO-1: AdamW state ", StringComparison.Ordinal) && l.Contains("on rank 0 of 2", StringComparison.Ordinal));
        foreach (var key in new[] { "train_loss", "grad_norm" })
            Assert.Equal(Losses("zero0").Select(e => e.GetProperty(key).GetDouble()), Losses("zero1").Select(e => e.GetProperty(key).GetDouble()));
        foreach (var file in new[] { TrainingCheckpoint.LoraFile, TrainingCheckpoint.NormsFile })
            Assert.True(File.ReadAllBytes(Checkpoint("zero0", 3, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Checkpoint("zero1", 3, file))),
                $"{file} differs between ZeRO-0 and ZeRO-1 on world 2");

        // Each rank wrote only its share; together the shards are stage 0's optimizer.safetensors, bit for bit.
        Assert.False(File.Exists(Checkpoint("zero1", 3, TrainingCheckpoint.OptimizerFile)));
        var shards = Enumerable.Range(0, 2).Select(r => Bits(Checkpoint("zero1", 3, OptimizerStateFiles.ShardName(r, 2)))).ToList();
        Assert.All(shards, shard => Assert.NotEmpty(shard));
        Assert.Empty(shards[0].Keys.Intersect(shards[1].Keys));
        var whole = Bits(Checkpoint("zero0", 3, TrainingCheckpoint.OptimizerFile));
        Assert.Equal(whole.Keys.Order(), shards.SelectMany(s => s.Keys).Order());
        foreach (var shard in shards)
            foreach (var (name, bits) in shard)
                Assert.True(whole[name].SequenceEqual(bits), $"optimizer tensor {name} differs between ZeRO-0 and ZeRO-1");

        AssertClose(Losses("single"), Losses("zero1"), "train_loss");
        var (maxAbs, where) = MaxDifference(Trained("single"), Trained("zero1"));
        Assert.True(maxAbs <= WeightTolerance, $"ZeRO-1 world 2 vs world 1: {where} differs by {maxAbs:E2}");
        double lossGap = Losses("single").Zip(Losses("zero1"), (e, a) => Math.Abs(a.GetProperty("train_loss").GetDouble() / e.GetProperty("train_loss").GetDouble() - 1)).Max();
        TestContext.Current.TestOutputHelper?.WriteLine($"ZeRO-1 world 2 vs world 1: max |dw| = {maxAbs:E2} at {where}; max relative loss difference {lossGap:E2}");
    }

    /// <summary>
    /// A ZeRO-1 run interrupted after step 2 (its step_3 removed) and resumed on 2 ranks writes step 3 bit-identical to
    /// the run that went straight through, shard files included. Resumed on 3 ranks, each reads every shard and keeps
    /// the tensors its new partition gives it (re-sharding): with adapters only, every rank's gradient is one GEMM per
    /// micro-batch and the third rank's is 0, so the sums are exact and step 3 matches bit for bit again.
    /// </summary>
    [Fact]
    public void Finetune_Zero1Resumed_BitIdenticalOnTwoRanksAndReshardedOntoThree()
    {
        MpiRunner.RequireMpirun();
        string[] Zero1(string run, params string[] more) =>
            [.. Args(run), "--set", "zero_stage=1", "--set", "ckpt_freq=1", "--set", "lora.train_norms=false", .. more];
        var straight = MpiRunner.Run(2, Zero1("straight"));
        Assert.True(straight.ExitCode == 0, straight.ToString());
        foreach (var (run, world) in new[] { ("resumed2", 2), ("resumed3", 3) })
        {
            CopyRunStoppedAfterStep2("straight", run);
            var resumed = MpiRunner.Run(world, Zero1(run, "--resume"));
            Assert.True(resumed.ExitCode == 0, resumed.ToString());
            Assert.Contains(resumed.OutLines, l => l.StartsWith("resumed from ", StringComparison.Ordinal) && l.EndsWith("(step 2)", StringComparison.Ordinal));
            Assert.True(File.ReadAllBytes(Checkpoint("straight", 3, TrainingCheckpoint.LoraFile)).AsSpan().SequenceEqual(File.ReadAllBytes(Checkpoint(run, 3, TrainingCheckpoint.LoraFile))),
                $"step 3 adapters differ after resuming on {world} ranks");
            Assert.Equal(Losses("straight")[2].GetProperty("train_loss").GetDouble(), Losses(run)[^1].GetProperty("train_loss").GetDouble());
            var expected = MergedShards("straight", 2);
            var actual = MergedShards(run, world);
            Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
            foreach (var (name, bits) in expected)
                Assert.True(actual[name].SequenceEqual(bits), $"optimizer tensor {name} differs after resuming on {world} ranks");
        }
    }

    private void CopyRunStoppedAfterStep2(string from, string to)
    {
        var source = Path.Combine(_dir, from);
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(_dir, to, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        Directory.Delete(TrainingCheckpoint.Folders(Path.Combine(_dir, to)).PathOf(3), recursive: true);
        Directory.Delete(Path.Combine(_dir, to, "merged"), recursive: true);
    }

    private Dictionary<string, int[]> MergedShards(string run, int world) =>
        Enumerable.Range(0, world).SelectMany(r => Bits(Checkpoint(run, 3, OptimizerStateFiles.ShardName(r, world)))).ToDictionary(kv => kv.Key, kv => kv.Value);

    private string Checkpoint(string run, int step, string file) => Path.Combine(TrainingCheckpoint.Folders(Path.Combine(_dir, run)).PathOf(step), file);

    private Dictionary<string, float[]> Trained(string run, int step = 3) =>
        TrainingCheckpoint.ReadTrained(TrainingCheckpoint.Folders(Path.Combine(_dir, run)).PathOf(step)).ToDictionary(kv => kv.Key, kv => kv.Value.ToFloat32());

    private List<JsonElement> Losses(string run) =>
        File.ReadAllLines(Path.Combine(_dir, run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.TryGetProperty("train_loss", out _)).ToList();

    private static void AssertClose(List<JsonElement> expected, List<JsonElement> actual, string key)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            double e = expected[i].GetProperty(key).GetDouble(), a = actual[i].GetProperty(key).GetDouble();
            Assert.True(Math.Abs(a - e) <= LossRelativeTolerance * Math.Abs(e), $"step {i + 1} {key}: one process {e:R}, data-parallel {a:R}");
        }
    }
}
