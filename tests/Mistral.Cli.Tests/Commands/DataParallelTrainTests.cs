using System.Text.Json;
using Mistral.Runtime.Model;
using Mistral.Runtime.Training;
using Mistral.Runtime.Training.Pretrain;
using Mistral.Testing;
using Xunit;
using static Mistral.Cli.Tests.SafeTensorsCompare;

namespace Mistral.Cli.Tests.Commands;

/// <summary>
/// `mpirun -np 2 mistral-cu train` on CPU ranks (the MPI communicator: the pretrainer's distributed path without a GPU)
/// against one process, on the tiny GPT-2 shape and the example corpus, as <see cref="TrainCommandTests"/> shrinks it.
/// </summary>
public sealed class DataParallelTrainTests : IDisposable
{
    private static readonly string Example = Path.GetFullPath(Path.Combine(Fixtures.Root, "..", "..", "examples", "train", "gpt2-micro.yaml"));
    private const string RunId = "gpt2-micro-factbook";

    /// <summary>
    /// World 2 × 1 micro-batch vs world 1 × 2: the same blocks in every step (effective_bsz 4 = 2 per device × 2), but
    /// the gradients of the two micro-batches summed by MPI instead of accumulated inside the backward kernels, so fp32
    /// rounding differs in the last bits. Measured: losses and grad norms at most 2.6e-8 relative apart; weights after 3
    /// steps at most 1.8e-6 apart (a c_attn bias: Adam's 1/√v lets an element whose gradient is mostly rounding noise
    /// move further than its gradient's error).
    /// </summary>
    private const double LossRelativeTolerance = 1e-6, WeightTolerance = 1e-4;

    private readonly string _dir = Directory.CreateTempSubdirectory("dp-train").FullName;

    public DataParallelTrainTests() => File.WriteAllLines(Path.Combine(_dir, "valid.jsonl"),
    [
        """{"text": "The country is bordered by the sea to the north and by mountains to the south."}""",
    ]);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Tiny GPT-2, blocks of 17 tokens, 2 per device, 4 per optimizer step: world 1 accumulates 2, world 2 one.</summary>
    private string[] Args(string run, int steps = 3, params string[] more) =>
    [
        "train", Example, "--device", "cpu",
        "--set", $"artifacts.run_dir={Path.Combine(_dir, run)}", "--set", $"artifacts.cache_dir={Path.Combine(_dir, "cache")}",
        "--set", $"dataset.validation_files={Path.Combine(_dir, "valid.jsonl")}",
        "--set", "model.id=null", "--set", $"model.config_path={Path.Combine(Fixtures.TinyGpt2Hf, "config.json")}",
        "--set", "model.seq_len=17", "--set", "training_arguments.per_device_train_batch_size=2", "--set", "training_arguments.effective_bsz=4",
        "--set", "training_arguments.warmup_steps=1", "--set", "training_arguments.learning_rate=2e-2",
        "--set", $"training_arguments.max_steps={steps}", "--set", "training_arguments.logging_steps=1",
        "--set", "training_arguments.eval_steps=100000", "--set", $"checkpoint_frequency=[[{steps}, {steps}]]", .. more,
    ];

    [Fact]
    public void Train_World2Accumulation1_MatchesWorld1Accumulation2AndRepeatsBitForBit()
    {
        MpiRunner.RequireMpirun();
        var single = CliRunner.Run(Args("single"));
        Assert.True(single.ExitCode == 0, single.ToString());
        var first = MpiRunner.Run(2, Args("world2"));
        Assert.True(first.ExitCode == 0, first.ToString());
        var again = MpiRunner.Run(2, Args("world2-again"));
        Assert.True(again.ExitCode == 0, again.ToString());

        // Only rank 0 prints progress (one "step 3/3" line) and writes metrics; effective_bsz 4 is 1 micro-batch per rank.
        Assert.Single(first.OutLines, l => l.StartsWith("step      3/3 | loss", StringComparison.Ordinal));
        Assert.Contains(first.OutLines, l => l.Contains("× 2 ranks (mpi)", StringComparison.Ordinal) && l.Contains("3 steps of 1×2×17 tokens per rank", StringComparison.Ordinal));
        Assert.Contains(single.OutLines, l => l.Contains("3 steps of 2×2×17 tokens", StringComparison.Ordinal));
        double lossGap = Math.Max(RelativeGap(Metrics("single"), Metrics("world2"), "train_loss"), RelativeGap(Metrics("single"), Metrics("world2"), "grad_norm"));
        var (maxAbs, where) = MaxDifference(Weights("single"), Weights("world2"));
        TestContext.Current.TestOutputHelper?.WriteLine($"world 2 x 1 vs world 1 x 2: max relative loss/grad-norm difference {lossGap:E2}; max |dw| = {maxAbs:E2} at {where}");
        Assert.True(lossGap <= LossRelativeTolerance, $"losses or grad norms {lossGap:E2} relative apart");
        Assert.True(maxAbs <= WeightTolerance, $"world 2 vs world 1: {where} differs by {maxAbs:E2} (tolerance {WeightTolerance:E0})");

        foreach (var file in new[] { PretrainCheckpoint.ModelFile, PretrainCheckpoint.OptimizerFile })
            Assert.True(File.ReadAllBytes(Checkpoint("world2", 3, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Checkpoint("world2-again", 3, file))),
                $"{file} differs between two world-2 runs");
        Assert.Equal(Metrics("world2").Select(e => e.GetProperty("train_loss").GetDouble()), Metrics("world2-again").Select(e => e.GetProperty("train_loss").GetDouble()));
    }

    /// <summary>ZeRO-1 (reduce to the owner, AdamW on the shard, broadcast) against ZeRO-0 (all-reduce) on 2 ranks: bit for bit.</summary>
    [Fact]
    public void Train_Zero1World2_BitIdenticalToZero0World2()
    {
        MpiRunner.RequireMpirun();
        var zero0 = MpiRunner.Run(2, Args("zero0"));
        Assert.True(zero0.ExitCode == 0, zero0.ToString());
        var zero1 = MpiRunner.Run(2, Args("zero1", 3, "--set", "training_arguments.zero_stage=1"));
        Assert.True(zero1.ExitCode == 0, zero1.ToString());

        Assert.Contains(zero1.OutLines, l => l.StartsWith("ZeRO-1: AdamW state ", StringComparison.Ordinal) && l.Contains("on rank 0 of 2", StringComparison.Ordinal));
        foreach (var key in new[] { "train_loss", "grad_norm" })
            Assert.Equal(Metrics("zero0").Select(e => e.GetProperty(key).GetDouble()), Metrics("zero1").Select(e => e.GetProperty(key).GetDouble()));
        Assert.True(File.ReadAllBytes(Checkpoint("zero0", 3, PretrainCheckpoint.ModelFile)).AsSpan().SequenceEqual(File.ReadAllBytes(Checkpoint("zero1", 3, PretrainCheckpoint.ModelFile))),
            "model.safetensors differs between ZeRO-0 and ZeRO-1 on world 2");

        // Each rank wrote only its share; together the shards are stage 0's optimizer file, bit for bit.
        Assert.False(File.Exists(Checkpoint("zero1", 3, PretrainCheckpoint.OptimizerFile)));
        var shards = Shards("zero1", 3, 2);
        var whole = Bits(Checkpoint("zero0", 3, PretrainCheckpoint.OptimizerFile));
        Assert.Equal(whole.Keys.Order(), shards.Keys.Order());
        foreach (var (name, bits) in shards)
            Assert.True(whole[name].SequenceEqual(bits), $"optimizer tensor {name} differs between ZeRO-0 and ZeRO-1");
    }

    /// <summary>
    /// A ZeRO-1 run on 2 ranks interrupted after step 2 (its checkpoint-3 removed) and resumed on 2 ranks writes
    /// checkpoint-3 bit-identical to the run that went straight through, shards included; one process resumes the same
    /// checkpoint-2 (ZeRO-0, the shards merged) to within fp32 rounding, and generates from the 2 ranks' checkpoint-3.
    /// </summary>
    [Fact]
    public void Train_CheckpointOfTwoRanks_ResumesBitIdenticallyOnTwoAndInOneProcessAndGenerates()
    {
        MpiRunner.RequireMpirun();
        string[] Zero1(string run, params string[] more) =>
            [.. Args(run), "--set", "training_arguments.zero_stage=1", "--set", "checkpoint_frequency=[[1, 3]]", .. more];
        var straight = MpiRunner.Run(2, Zero1("straight"));
        Assert.True(straight.ExitCode == 0, straight.ToString());

        CopyStoppedAfterStep2("straight", "resumed");
        var resumed = MpiRunner.Run(2, Zero1("resumed", "--resume"));
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains(resumed.OutLines, l => l.StartsWith("resuming from ", StringComparison.Ordinal) && l.EndsWith("checkpoint-2", StringComparison.Ordinal));

        Assert.True(File.ReadAllBytes(Checkpoint("straight", 3, PretrainCheckpoint.ModelFile)).AsSpan().SequenceEqual(File.ReadAllBytes(Checkpoint("resumed", 3, PretrainCheckpoint.ModelFile))),
            "checkpoint-3 weights differ after resuming on 2 ranks");
        Assert.Equal(Metrics("straight")[^1].GetProperty("train_loss").GetDouble(), Metrics("resumed")[^1].GetProperty("train_loss").GetDouble());
        var expected = Shards("straight", 3, 2);
        var actual = Shards("resumed", 3, 2);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, bits) in expected)
            Assert.True(actual[name].SequenceEqual(bits), $"optimizer tensor {name} differs after resuming on 2 ranks");

        // One process resumes the 2 ranks' checkpoint-2 too (2 micro-batches, the shards merged): fp32 rounding apart.
        CopyStoppedAfterStep2("straight", "single");
        var single = CliRunner.Run(Zero1("single", "--resume", "--set", "training_arguments.zero_stage=0"));
        Assert.True(single.ExitCode == 0, single.ToString());
        var (maxAbs, where) = MaxDifference(Weights("straight"), Weights("single"));
        TestContext.Current.TestOutputHelper?.WriteLine($"2-rank checkpoint-2 resumed in one process: step 3 max |dw| = {maxAbs:E2} at {where}");
        Assert.True(maxAbs <= WeightTolerance, $"resumed in one process: {where} differs by {maxAbs:E2}");

        var generate = CliRunner.Run("generate", PretrainCheckpoint.Folders(Path.Combine(_dir, "resumed", RunId)).PathOf(3),
            "--prompt", "The country", "--max-tokens", "4", "--temperature", "0", "--device", "cpu");
        Assert.True(generate.ExitCode == 0, generate.ToString());
        Assert.StartsWith("The country", generate.Out);
    }

    /// <summary>
    /// 3 ranks of 2 blocks cannot make an effective_bsz of 4: the ranks refuse with the key, each line naming its rank,
    /// exit 2 (mpirun ends the others as soon as the first exits, so one to three lines).
    /// </summary>
    [Fact]
    public void Train_EffectiveBatchNotAMultipleOfTheWorld_RanksNameTheKey_Exit2()
    {
        MpiRunner.RequireMpirun();
        var three = MpiRunner.Run(3, Args("world3"));
        Assert.True(three.ExitCode == 2, three.ToString());
        var lines = three.ErrLines.Where(l => l.StartsWith("error: rank ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Contains("training_arguments.effective_bsz: 4 is not a multiple of per_device_train_batch_size × world size = 2 × 3 = 6", l));
        Assert.All(lines, l => Assert.DoesNotContain("Exception", l));
    }

    /// <summary>
    /// Rank 1 killed mid-run (a checkpoint every step): rank 0 exits non-zero within a minute naming rank 1, every
    /// checkpoint-N left verifies (a half-written one is only ever checkpoint-N.tmp), and --resume continues on 2 ranks.
    /// </summary>
    [Fact]
    public void Train_OneRankKilledMidRun_OtherExitsNonZeroAndOnlyCompleteCheckpointsRemain()
    {
        MpiRunner.RequireMpirun();
        var run = Path.Combine(_dir, "killed", RunId);
        MpiRunner.KillRankOneMidRun(Path.Combine(run, "metrics.jsonl"), Args("killed", steps: 400, "--set", "checkpoint_frequency=[[1, 400]]"));

        var checkpoints = PretrainCheckpoint.Folders(run).List();
        Assert.NotEmpty(checkpoints);
        foreach (var (_, path) in checkpoints) PretrainCheckpoint.Verify(path);

        int last = checkpoints[^1].Step;
        var resumed = MpiRunner.Run(2, Args("killed", last + 1, "--set", "checkpoint_frequency=[[1, 400]]", "--resume"));
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.Contains(resumed.OutLines, l => l.StartsWith("resuming from ", StringComparison.Ordinal) && l.EndsWith($"checkpoint-{last}", StringComparison.Ordinal));
        Assert.True(Directory.Exists(PretrainCheckpoint.Folders(run).PathOf(last + 1)));
    }

    private void CopyStoppedAfterStep2(string from, string to)
    {
        var source = Path.Combine(_dir, from);
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(_dir, to, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        Directory.Delete(PretrainCheckpoint.Folders(Path.Combine(_dir, to, RunId)).PathOf(3), recursive: true);
    }

    private string Checkpoint(string run, int step, string file) => Path.Combine(PretrainCheckpoint.Folders(Path.Combine(_dir, run, RunId)).PathOf(step), file);

    private Dictionary<string, int[]> Shards(string run, int step, int world) =>
        Enumerable.Range(0, world).SelectMany(r => Bits(Checkpoint(run, step, OptimizerStateFiles.ShardName(r, world)))).ToDictionary(kv => kv.Key, kv => kv.Value);

    private Dictionary<string, float[]> Weights(string run) =>
        SafeTensorsFile.ReadAll(Checkpoint(run, 3, PretrainCheckpoint.ModelFile)).ToDictionary(kv => kv.Key, kv => kv.Value.ToFloat32());

    private List<JsonElement> Metrics(string run) =>
        File.ReadAllLines(Path.Combine(_dir, run, RunId, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.TryGetProperty("train_loss", out _)).ToList();

    private static double RelativeGap(List<JsonElement> expected, List<JsonElement> actual, string key)
    {
        Assert.Equal(expected.Count, actual.Count);
        return expected.Zip(actual, (e, a) => Math.Abs(a.GetProperty(key).GetDouble() / e.GetProperty(key).GetDouble() - 1)).Max();
    }
}
