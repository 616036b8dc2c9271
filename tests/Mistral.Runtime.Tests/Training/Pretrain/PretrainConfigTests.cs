using Mistral.Runtime.Tests.Model;
using Mistral.Runtime.Training.Config;
using Mistral.Runtime.Training.Pretrain;
using Mistral.Testing;
using Xunit;

namespace Mistral.Runtime.Tests.Training.Pretrain;

public sealed class PretrainConfigTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private static readonly string Gpt2Tokenizer = Path.Combine(Fixtures.Root, "tokenizers", "gpt2");

    private readonly TempDir _dir = new();

    public PretrainConfigTests()
    {
        Directory.CreateDirectory(_dir.File("data/more"));
        foreach (var f in new[] { "data/a.txt", "data/b.jsonl", "data/more/c.txt", "data/valid.jsonl", "data/notes.csv" })
            File.WriteAllText(_dir.File(f), "x");
    }

    public void Dispose() => _dir.Dispose();

    private string Write(string name, string yaml)
    {
        var path = _dir.File(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, yaml);
        return path;
    }

    private string Minimal(string extra = "") => $"""
        dataset:
          files: data/*.txt
        model:
          id: gpt2-micro
          tokenizer: {Gpt2Tokenizer}
        training_arguments:
          max_steps: 10
        {extra}
        """;

    [Fact]
    public void Load_FullConfig_ReadsEveryKey()
    {
        var file = Write("full.yaml", $"""
            run_id: my-run
            artifacts:
              run_dir: out
              cache_dir: /abs/cache
            seed: 21
            run_training: false
            run_final_eval: false
            device: cpu
            dataset:
              train_files: [data/**/*.txt, data/b.jsonl]
              validation_files: data/valid.jsonl
              validation_ratio: 0.1
              num_proc: 3
              max_bad_line_fraction: 0.5
            model:
              id: gpt2-small
              seq_len: 512
              tokenizer: {Gpt2Tokenizer}
              scale_attn_by_inverse_layer_idx: true
              reorder_and_upcast_attn: true
              gradient_checkpointing: true
            training_arguments:
              per_device_train_batch_size: 4
              effective_bsz: 32
              learning_rate: 6.0e-4
              weight_decay: 0.1
              adam_beta1: 0.9
              adam_beta2: 0.95
              adam_epsilon: 1.0e-6
              max_grad_norm: 0.5
              max_steps: 400
              lr_scheduler_type: cosine
              warmup_steps: 40
              bf16: true
              logging_steps: 5
              eval_steps: 50
            checkpoint_frequency: [[10, 100], [100, 1000]]
            """);
        var c = PretrainConfigLoader.Load(file, now: Now);
        Assert.Equal(("my-run", _dir.File("out"), _dir.File("out/my-run"), "/abs/cache"), (c.RunId, c.ArtifactsDir, c.RunDir, c.CacheDir));
        Assert.Equal((21UL, false, false, "cpu"), (c.Seed, c.RunTraining, c.RunFinalEval, c.Device));
        Assert.Equal([_dir.File("data/a.txt"), _dir.File("data/more/c.txt"), _dir.File("data/b.jsonl")], c.Dataset.TrainFiles);
        Assert.Equal([_dir.File("data/valid.jsonl")], c.Dataset.ValidationFiles);
        Assert.Equal((0.1, 3, 0.5), (c.Dataset.ValidationRatio, c.Dataset.NumProc, c.Dataset.MaxBadLineFraction));
        Assert.Equal(new PretrainModelConfig("gpt2-small", ModelPreset.Find("gpt2-small"), null, 512, null, Gpt2Tokenizer, true, true, true), c.Model);
        Assert.Equal(new TrainingArguments(4, 32, 8, 6e-4, 0.1, 0.9, 0.95, 1e-6, 0.5, 400, "cosine", 40, true, 5, 50), c.Training);
        Assert.Equal([(10, 100), (100, 1000)], c.Checkpoints.Pairs);
        Assert.True(c.Checkpoints.ExtendLastPair);
        Assert.False(c.Checkpoints.AlwaysSaveLastStep);
        Assert.Equal([file], c.SourceFiles);
    }

    [Fact]
    public void Load_Minimal_HuggingFaceAndFrameworkDefaults()
    {
        var c = PretrainConfigLoader.Load(Write("min.yaml", Minimal()), now: Now);
        Assert.Equal("gpt2-micro-a-20260102-030405", c.RunId);
        Assert.Equal((_dir.File("runs"), _dir.File("runs/cache")), (c.ArtifactsDir, c.CacheDir));
        Assert.Equal((42UL, true, true, "auto"), (c.Seed, c.RunTraining, c.RunFinalEval, c.Device));
        Assert.Equal([_dir.File("data/a.txt")], c.Dataset.TrainFiles);
        Assert.Equal(0.0005, c.Dataset.ValidationRatio);
        Assert.Equal(256, c.Model.SeqLen); // the preset's positions
        Assert.Equal(new TrainingArguments(8, 8, 1, 5e-5, 0, 0.9, 0.999, 1e-8, 1.0, 10, "linear", 0, false, 500, 500), c.Training);
        Assert.Equal(PretrainConfigLoader.DefaultCheckpointFrequency, c.Checkpoints.Pairs);
    }

    [Fact]
    public void Load_ZeroStage1_ReachesTrainingArguments()
    {
        Assert.Equal(0, PretrainConfigLoader.Load(Write("min.yaml", Minimal()), now: Now).Training.ZeroStage);
        Assert.Equal(1, PretrainConfigLoader.Load(Write("min.yaml", Minimal()), ["training_arguments.zero_stage=1"], now: Now).Training.ZeroStage);
    }

    [Fact]
    public void Load_InheritList_LaterFilesThenTheFileThenSetOverride()
    {
        Write("base/one.yaml", $"""
            seed: 1
            artifacts: {"{"}run_dir: one-runs{"}"}
            dataset:
              files: ../data/*.txt
              num_proc: 2
            model:
              id: gpt2-micro
              tokenizer: {Gpt2Tokenizer}
            training_arguments:
              max_steps: 10
              learning_rate: 1.0e-3
              warmup_steps: 2
            """);
        Write("base/two.yaml", """
            seed: 2
            training_arguments: {learning_rate: 2.0e-3}
            """);
        var file = Write("child.yaml", """
            inherit: [base/one.yaml, base/two.yaml]
            training_arguments: {warmup_steps: 3}
            """);
        var c = PretrainConfigLoader.Load(file, ["training_arguments.max_steps=20"], now: Now);
        Assert.Equal(2UL, c.Seed);                                  // two.yaml after one.yaml
        Assert.Equal((2e-3, 3, 20), (c.Training.LearningRate, c.Training.WarmupSteps, c.Training.MaxSteps));
        Assert.Equal(2, c.Dataset.NumProc);                         // kept from one.yaml: mappings merge key by key
        Assert.Equal(_dir.File("base/one-runs"), c.ArtifactsDir);   // relative to the file that said it
        Assert.Equal([_dir.File("data/a.txt")], c.Dataset.TrainFiles); // ../data from base/
        Assert.Equal([_dir.File("base/one.yaml"), _dir.File("base/two.yaml"), file], c.SourceFiles);
    }

    [Fact]
    public void Load_SetPath_RelativeToWorkingDirectory()
    {
        var file = Write("c.yaml", Minimal());
        var c = PretrainConfigLoader.Load(file, [$"dataset.files={_dir.File("data/more/*.txt")}", "artifacts.run_dir=rel"], now: Now);
        Assert.Equal([_dir.File("data/more/c.txt")], c.Dataset.TrainFiles);
        Assert.Equal(Path.GetFullPath("rel"), c.ArtifactsDir);
    }

    [Fact]
    public void Load_UnknownKeyInInheritedFile_NamesThatFileAndTheKeyPath()
    {
        var parent = Write("p.yaml", "training_arguments: {learning_rte: 1.0e-3}\n");
        var file = Write("c.yaml", "inherit: p.yaml\n" + Minimal());
        var e = Assert.Throws<TrainConfigException>(() => PretrainConfigLoader.Load(file, now: Now));
        Assert.Equal((parent, "training_arguments.learning_rte"), (e.File, e.KeyPath));
        Assert.Contains("unknown key", e.Message);
    }

    [Theory]
    [InlineData("training_arguments.learning_rate=.inf", "training_arguments.learning_rate", "expected a number")]
    [InlineData("training_arguments.learning_rate=-1", "training_arguments.learning_rate", "must be > 0")]
    [InlineData("training_arguments.adam_beta2=1", "training_arguments.adam_beta2", "must be in [0, 1)")]
    [InlineData("training_arguments.max_steps=ten", "training_arguments.max_steps", "expected an integer")]
    [InlineData("training_arguments.warmup_steps=11", "training_arguments.warmup_steps", "longer than max_steps")]
    [InlineData("training_arguments.lr_scheduler_type=one_cycle", "training_arguments.lr_scheduler_type", "expected one of linear, cosine")]
    [InlineData("training_arguments.effective_bsz=12", "training_arguments.effective_bsz", "not a multiple of per_device_train_batch_size")]
    [InlineData("training_arguments.bf16=maybe", "training_arguments.bf16", "expected true or false")]
    [InlineData("training_arguments.zero_stage=3", "training_arguments.zero_stage", "must be 0 (optimizer state on every rank) or 1")]
    [InlineData("dataset.validation_ratio=1", "dataset.validation_ratio", "must be in [0, 1)")]
    [InlineData("dataset.files=data/*.md", "dataset.files", "matches no file")]
    [InlineData("model.id=gpt5", "model.id", "unknown preset")]
    [InlineData("model.seq_len=1024", "model.seq_len", "must be at most 256")]
    [InlineData("model.seq_len=1", "model.seq_len", "must be at least 2")]
    [InlineData("checkpoint_frequency=[[10, 100], [5, 50]]", "checkpoint_frequency[1]", "until increasing")]
    [InlineData("checkpoint_frequency=[]", "checkpoint_frequency", "non-empty list")]
    [InlineData("seed=-1", "seed", "must be ≥ 0")]
    [InlineData("run_id=a/b", "run_id", "folder name")]
    [InlineData("model=3", "model", "expected a mapping")]
    public void Load_ImpossibleValue_OneErrorNamingKeyPath(string assignment, string keyPath, string problem)
    {
        var file = Write("c.yaml", Minimal());
        var e = Assert.Throws<TrainConfigException>(() => PretrainConfigLoader.Load(file, [assignment], now: Now));
        Assert.Equal(keyPath, e.KeyPath);
        Assert.Equal("--set", e.File);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void Load_EffectiveBszAndAccumulationDisagree_Error()
    {
        var file = Write("c.yaml", Minimal());
        var e = Assert.Throws<TrainConfigException>(() => PretrainConfigLoader.Load(file,
            ["training_arguments.effective_bsz=32", "training_arguments.gradient_accumulation_steps=2"], now: Now));
        Assert.Equal("training_arguments.gradient_accumulation_steps", e.KeyPath);
    }

    [Fact]
    public void Load_EffectiveBsz_AccumulationDerivedPerWorldSize()
    {
        var file = Write("c.yaml", Minimal());
        var c = PretrainConfigLoader.Load(file, ["training_arguments.effective_bsz=64"], worldSize: 2, now: Now);
        Assert.Equal((8, 64, 4), (c.Training.PerDeviceTrainBatchSize, c.Training.EffectiveBatchSize, c.Training.GradientAccumulationSteps));
        var e = Assert.Throws<TrainConfigException>(() => PretrainConfigLoader.Load(file, ["training_arguments.effective_bsz=24"], worldSize: 2, now: Now));
        Assert.Contains("8 × 2 = 16", e.Message);
    }

    [Fact]
    public void Load_WrongTypeInFile_NamesFileAndKey()
    {
        var file = Write("c.yaml", Minimal().Replace("max_steps: 10", "max_steps: [10]"));
        var e = Assert.Throws<TrainConfigException>(() => PretrainConfigLoader.Load(file, now: Now));
        Assert.Equal((file, "training_arguments.max_steps"), (e.File, e.KeyPath));
    }

    [Fact]
    public void Load_InheritCycle_Error()
    {
        Write("a.yaml", "inherit: b.yaml\n");
        Write("b.yaml", "inherit: a.yaml\n");
        var e = Assert.Throws<TrainConfigException>(() => PretrainConfigLoader.Load(_dir.File("a.yaml"), now: Now));
        Assert.Contains("inherits itself", e.Message);
    }

    [Fact]
    public void Load_MissingInheritedFile_NamesTheIncludingFile()
    {
        var file = Write("c.yaml", "inherit: nowhere.yaml\n" + Minimal());
        var e = Assert.Throws<TrainConfigException>(() => PretrainConfigLoader.Load(file, now: Now));
        Assert.Equal((file, "inherit"), (e.File, e.KeyPath));
    }

    [Fact]
    public void Load_GlobMatchingOtherFiles_ErrorNamingTheListEntry()
    {
        var file = Write("c.yaml", Minimal().Replace("files: data/*.txt", "files: [data/*.txt, data/notes.*]"));
        var e = Assert.Throws<TrainConfigException>(() => PretrainConfigLoader.Load(file, now: Now));
        Assert.Equal((file, "dataset.files[1]"), (e.File, e.KeyPath));
        Assert.Contains("expected .txt or .jsonl", e.Message);
    }

    [Fact]
    public void Load_BothFilesAndTrainFiles_Error()
    {
        var file = Write("c.yaml", Minimal());
        var e = Assert.Throws<TrainConfigException>(() => PretrainConfigLoader.Load(file, ["dataset.train_files=data/a.txt"], now: Now));
        Assert.Equal("dataset.train_files", e.KeyPath);
    }

    [Fact]
    public void Load_ScheduleFromTrainingArguments_IsTransformersLinear()
    {
        var c = PretrainConfigLoader.Load(Write("c.yaml", Minimal()), ["training_arguments.warmup_steps=2", "training_arguments.learning_rate=1"], now: Now);
        Assert.Equal([0, 0.5, 1, 7 / 8.0], Enumerable.Range(0, 4).Select(c.Training.Schedule().At));
    }

    [Fact]
    public void ModelPreset_Gpt2Micro_IsTheIssueShape()
    {
        var p = ModelPreset.Find("gpt2-micro")!;
        Assert.Equal(("gpt2", 2, 768, 2, 384, 3072, 256, 50257), (p.Family, p.NLayers, p.Dim, p.NHeads, p.HeadDim, p.HiddenDim, p.MaxPositions, p.VocabSize));
        Assert.Equal((12, 768, 12, 1024), (ModelPreset.Find("gpt2-small")!.NLayers, ModelPreset.Find("gpt2-small")!.Dim, ModelPreset.Find("gpt2-small")!.NHeads, ModelPreset.Find("gpt2-small")!.MaxPositions));
        Assert.Equal((24, 1024, 16), (ModelPreset.Find("gpt2-medium")!.NLayers, ModelPreset.Find("gpt2-medium")!.Dim, ModelPreset.Find("gpt2-medium")!.NHeads));
        Assert.All(ModelPreset.All, p => Assert.Equal(p.Dim, p.NHeads * p.HeadDim));
    }
}
