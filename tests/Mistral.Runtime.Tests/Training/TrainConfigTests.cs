using Mistral.Runtime.Training.Config;
using Xunit;

namespace Mistral.Runtime.Tests.Training;

public sealed class TrainConfigTests
{
    private const string File = "/runs/cfg/lora.yaml";

    private const string Full = """
        data:
          instruct_data: "train.jsonl"
          data: ""
          eval_instruct_data: "/abs/eval.jsonl"
        initial_model_path: ../model
        run_dir: out
        seq_len: 64
        batch_size: 2
        num_microbatches: 3
        max_steps: 40
        optim:
          lr: 6.e-5
          weight_decay: 0.05
          pct_start: 0.1
          betas: [0.9, 0.95]
          eps: 1.0e-6
          schedule: cosine
          warmup_steps: 4
        lora:
          rank: 8
          dropout: 0.1
          scaling: 2.0
          targets: [wq, wv]
        seed: 7
        log_freq: 2
        eval_freq: 10
        no_eval: false
        ckpt_freq: [[5, 20], [10, 40]]
        keep_last_checkpoints: 2
        max_grad_norm: 1.0
        device: cpu
        precision: fp32
        recompute: true
        """;

    [Fact]
    public void Parse_FullConfig_ReadsEveryKeyAndResolvesPathsAgainstTheFile()
    {
        var c = TrainConfigLoader.Parse(Full, File);
        Assert.Equal(["/runs/cfg/train.jsonl"], c.Data.InstructData);
        Assert.Empty(c.Data.Data);
        Assert.Equal(["/abs/eval.jsonl"], c.Data.EvalInstructData);
        Assert.Equal("/runs/model", c.InitialModelPath);
        Assert.Equal("/runs/cfg/out", c.RunDir);
        Assert.Equal((64, 2, 3, 40), (c.SeqLen, c.BatchSize, c.NumMicrobatches, c.MaxSteps));
        Assert.Equal(new OptimConfig(6e-5, 0.05, 0.1, 0.9, 0.95, 1e-6, "cosine", 4), c.Optim);
        Assert.Equal((8, 0.1, 2.0, null, true), (c.Lora!.Rank, c.Lora.Dropout, c.Lora.Scaling, c.Lora.InitFile, c.Lora.TrainNorms));
        Assert.Equal(["wq", "wv"], c.Lora.Targets);
        Assert.Equal((7UL, 2, 10, false, 2, 1.0), (c.Seed, c.LogFreq, c.EvalFreq, c.NoEval, c.KeepLastCheckpoints, c.MaxGradNorm));
        Assert.Equal(("cpu", "fp32", true), (c.Device, c.Precision, c.Recompute));
        Assert.Equal([(5, 20), (10, 40)], c.Checkpoints.Pairs);
    }

    [Fact]
    public void Parse_LoraNull_IsFullParameterFineTuning_AnAbsentLoraTakesTheDefaults()
    {
        const string minimal = "data: {data: a.jsonl}\ninitial_model_path: m\nrun_dir: r\n";
        Assert.Null(TrainConfigLoader.Parse(minimal + "lora: null\n", File).Lora);
        Assert.Null(TrainConfigLoader.Parse(minimal, File, ["lora=null"]).Lora);
        Assert.Equal(16, TrainConfigLoader.Parse(minimal, File).Lora?.Rank);
    }

    [Fact]
    public void Parse_MinimalConfig_TakesTheDocumentedDefaults()
    {
        var c = TrainConfigLoader.Parse("data: {data: a.jsonl}\ninitial_model_path: m\nrun_dir: r\n", File);
        Assert.Equal((2048, 1, 1, 100), (c.SeqLen, c.BatchSize, c.NumMicrobatches, c.MaxSteps));
        Assert.Equal(new OptimConfig(1e-4, 0.1, 0.05, 0.9, 0.999, 1e-8, "one_cycle", 0), c.Optim);
        Assert.Equal(LoraConfig.AllTargets, c.Lora!.Targets);
        Assert.Equal((16, 0.0, 2.0), (c.Lora.Rank, c.Lora.Dropout, c.Lora.Scaling));
        Assert.Null(c.KeepLastCheckpoints);
        Assert.Equal(("auto", "auto"), (c.Device, c.Precision));
    }

    [Theory]
    [InlineData("optim:\n  lrr: 1\n", "optim.lrr", "unknown key")]
    [InlineData("seq_len: abc\n", "seq_len", "expected an integer")]
    [InlineData("seq_len: 1\n", "seq_len", "at least 2")]
    [InlineData("optim: 3\n", "optim", "expected a mapping")]
    [InlineData("optim:\n  betas: [0.9]\n", "optim.betas", "two numbers")]
    [InlineData("optim:\n  lr: fast\n", "optim.lr", "expected a number")]
    [InlineData("optim:\n  schedule: linear\n", "optim.schedule", "one of")]
    [InlineData("lora:\n  targets: [wq, embed]\n", "lora.targets", "embed")]
    [InlineData("no_eval: maybe\n", "no_eval", "true or false")]
    [InlineData("ckpt_freq: [[10, 5], [2, 3]]\n", "ckpt_freq[1]", "until increasing")]
    [InlineData("wandb: {}\n", "wandb", "unknown key")]
    [InlineData("zero_stage: 2\n", "zero_stage", "must be 0 (optimizer state on every rank) or 1")]
    [InlineData("zero_stage: one\n", "zero_stage", "expected an integer")]
    public void Parse_BadValue_NamesFileAndKeyPath(string extra, string keyPath, string fragment)
    {
        var e = Assert.Throws<TrainConfigException>(() =>
            TrainConfigLoader.Parse("data: {data: a.jsonl}\ninitial_model_path: m\nrun_dir: r\n" + extra, File));
        Assert.Equal(keyPath, e.KeyPath);
        Assert.StartsWith(File + ": " + keyPath + ":", e.Message);
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void Parse_MissingData_SaysWhichKeysAreNeeded()
    {
        var e = Assert.Throws<TrainConfigException>(() => TrainConfigLoader.Parse("initial_model_path: m\nrun_dir: r\n", File));
        Assert.Equal("data", e.KeyPath);
    }

    [Fact]
    public void Parse_InvalidYaml_NamesFileAndLine()
    {
        var e = Assert.Throws<TrainConfigException>(() => TrainConfigLoader.Parse("run_dir: r\nseq_len: [1, 2\n", File));
        Assert.Contains(File, e.Message);
        Assert.Contains("line", e.Message);
    }

    [Fact]
    public void Load_MissingFile_NamesIt()
    {
        var e = Assert.Throws<TrainConfigException>(() => TrainConfigLoader.Load("/nonexistent/x.yaml"));
        Assert.Contains("/nonexistent/x.yaml", e.Message);
    }

    [Fact]
    public void Overrides_ReplaceNestedValuesListsAndPaths_AndAreInTheEffectiveYaml()
    {
        var c = TrainConfigLoader.Parse(Full, File,
            ["optim.lr=0.001", "optim.betas=[0.8, 0.9]", "lora.init_file=init.safetensors", "run_dir=/tmp/x", "max_steps=5"]);
        Assert.Equal(0.001, c.Optim.Lr);
        Assert.Equal((0.8, 0.9), (c.Optim.Beta1, c.Optim.Beta2));
        Assert.Equal(Path.GetFullPath("init.safetensors"), c.Lora!.InitFile); // --set paths: relative to the working directory
        Assert.Equal("/tmp/x", c.RunDir);
        Assert.Equal(5, c.MaxSteps);
        var again = TrainConfigLoader.Parse(c.EffectiveYaml, File);
        Assert.Equal(0.001, again.Optim.Lr);
        Assert.Equal(5, again.MaxSteps);
    }

    [Fact]
    public void Overrides_UnknownKeyOrMissingEquals_Fail()
    {
        Assert.Equal("optim.lrr", Assert.Throws<TrainConfigException>(() => TrainConfigLoader.Parse(Full, File, ["optim.lrr=1"])).KeyPath);
        Assert.Contains("key.path=value", Assert.Throws<TrainConfigException>(() => TrainConfigLoader.Parse(Full, File, ["optim.lr"])).Message);
    }

    [Fact]
    public void CheckpointSchedule_PairsAndFinalStep()
    {
        var s = new CheckpointSchedule([(5, 20), (10, 40)]);
        int[] saved = Enumerable.Range(1, 47).Where(step => s.ShouldSave(step, 47)).ToArray();
        Assert.Equal([5, 10, 15, 20, 30, 40, 47], saved);
        Assert.Equal([3, 6, 7], Enumerable.Range(1, 7).Where(step => CheckpointSchedule.Every(3).ShouldSave(step, 7)).ToArray());
    }
}
