using System.Globalization;
using Mistral.Runtime.Training.Config;
using YamlDotNet.RepresentationModel;

namespace Mistral.Runtime.Training.Pretrain;

/// <summary>
/// Reads a `train` YAML strictly, as <see cref="TrainConfigLoader"/> reads finetune's: unknown keys, wrong types and
/// impossible values fail with one <see cref="TrainConfigException"/> naming the file that set the key and its path.
/// `inherit` merges base files first (<see cref="InheritedYaml"/>); `--set key.path=value` overrides come last.
/// Relative paths are relative to the file that holds them (--set: the working directory); globs are expanded here.
/// </summary>
public static class PretrainConfigLoader
{
    /// <summary>stanford-crfm/mistral's default schedule: 609 checkpoints over 400k steps.</summary>
    public static readonly IReadOnlyList<(int Every, int Until)> DefaultCheckpointFrequency = [(10, 100), (50, 2000), (100, 20000), (1000, 400000)];

    private static readonly HashSet<string> PathKeys =
    [
        "artifacts.run_dir", "artifacts.cache_dir", "dataset.files", "dataset.train_files", "dataset.validation_files",
        "model.config_path", "model.initial_weights", "model.tokenizer",
    ];

    private static readonly string[] DataExtensions = [".txt", ".jsonl"];

    /// <param name="worldSize">Data-parallel ranks (effective_bsz is divided among them).</param>
    /// <param name="now">The time stamped into the default run_id (default: now, UTC).</param>
    public static PretrainConfig Load(string file, IEnumerable<string>? overrides = null, int worldSize = 1, DateTimeOffset? now = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        var full = Path.GetFullPath(file);
        var merged = InheritedYaml.Load(full, PathKeys);
        foreach (var assignment in overrides ?? [])
            merged.ApplyOverride(assignment, full);

        var writer = new StringWriter(CultureInfo.InvariantCulture);
        new YamlStream(new YamlDocument(merged.Root)).Save(writer, assignAnchors: false);

        var top = new YamlConfigNode(merged.Root, "", full, merged.Origins);
        var config = Bind(top, worldSize, now ?? DateTimeOffset.UtcNow, merged.Files, writer.ToString());
        top.RejectUnknownKeys();
        return config;
    }

    private static PretrainConfig Bind(YamlConfigNode top, int worldSize, DateTimeOffset now, IReadOnlyList<string> files, string effective)
    {
        var artifacts = top.Child("artifacts");
        var artifactsDir = artifacts.OptionalString("run_dir") ?? Path.GetFullPath(Path.Combine(Path.GetDirectoryName(files[^1])!, "runs"));
        var cacheDir = artifacts.OptionalString("cache_dir") ?? Path.Combine(artifactsDir, "cache");
        artifacts.RejectUnknownKeys();

        var dataset = ReadDataset(top.Child("dataset"));
        var model = ReadModel(top.Child("model"));
        var training = ReadTrainingArguments(top.Child("training_arguments"), worldSize);

        var checkpoints = top.Raw("checkpoint_frequency") switch
        {
            null => CheckpointSchedule.Pretrain(DefaultCheckpointFrequency),
            YamlSequenceNode { Children.Count: > 0 } seq => CheckpointSchedule.Pretrain(TrainConfigLoader.CheckpointPairs(top, "checkpoint_frequency", seq)),
            _ => throw top.ErrorAt("checkpoint_frequency", "expected a non-empty list of [every, until] pairs"),
        };

        var seed = top.Int("seed", 42);
        if (seed < 0) throw top.ErrorAt("seed", $"must be ≥ 0 (got {seed})");
        var runId = top.OptionalString("run_id") ?? DefaultRunId(model, dataset, now);
        if (runId.Length == 0 || runId.IndexOfAny(['/', '\\']) >= 0 || runId is "." or "..")
            throw top.ErrorAt("run_id", $"must be a folder name (got '{runId}')");

        return new PretrainConfig(
            runId, artifactsDir, Path.Combine(artifactsDir, runId), cacheDir, (ulong)seed,
            top.Bool("run_training", true), top.Bool("run_final_eval", true),
            top.OneOf("device", "auto", "auto", "cpu", "cuda", "emu")!,
            dataset, model, training, checkpoints, files, effective);
    }

    private static PretrainDatasetConfig ReadDataset(YamlConfigNode d)
    {
        var files = Globs(d, "files");
        var trainFiles = Globs(d, "train_files");
        if (files.Count > 0 && trainFiles.Count > 0) throw d.ErrorAt("train_files", "give either dataset.files or dataset.train_files, not both");
        if (files.Count == 0 && trainFiles.Count == 0) throw d.ErrorAt("files", "is required (or dataset.train_files): globs of .txt or .jsonl files");
        var config = new PretrainDatasetConfig(
            files.Count > 0 ? files : trainFiles,
            Globs(d, "validation_files"),
            InRange(d, "validation_ratio", d.Double("validation_ratio", 0.0005), 0, 1, hiOpen: true),
            TrainConfigLoader.Positive(d, "num_proc", d.Int("num_proc", Environment.ProcessorCount)),
            InRange(d, "max_bad_line_fraction", d.Double("max_bad_line_fraction", 0.01), 0, 1, hiOpen: false));
        d.RejectUnknownKeys();
        return config;
    }

    // A glob or a list of globs; each must match at least one .txt/.jsonl file.
    private static IReadOnlyList<string> Globs(YamlConfigNode d, string key)
    {
        string[] patterns = d.Raw(key) switch
        {
            null => [],
            YamlScalarNode => [d.OptionalString(key)!],
            YamlSequenceNode => d.OptionalStringList(key)!,
            _ => throw d.ErrorAt(key, "expected a glob or a list of globs"),
        };
        var found = new List<string>();
        for (int i = 0; i < patterns.Length; i++)
        {
            var where = patterns.Length == 1 && d.Raw(key) is YamlScalarNode ? key : $"{key}[{i}]";
            var matches = FileGlob.Expand(patterns[i]);
            if (matches.Count == 0) throw d.ErrorAt(where, $"'{patterns[i]}' matches no file");
            foreach (var m in matches)
            {
                if (!DataExtensions.Contains(Path.GetExtension(m), StringComparer.OrdinalIgnoreCase))
                    throw d.ErrorAt(where, $"'{m}': expected .txt or .jsonl files");
                if (!found.Contains(m)) found.Add(m);
            }
        }
        return found;
    }

    private static PretrainModelConfig ReadModel(YamlConfigNode m)
    {
        var id = m.OptionalString("id");
        ModelPreset? preset = null;
        if (id is not null)
            preset = ModelPreset.Find(id) ?? throw m.ErrorAt("id", $"unknown preset '{id}' (known: {string.Join(", ", ModelPreset.All.Select(p => p.Id))})");
        var configPath = m.OptionalString("config_path");
        var initial = m.OptionalString("initial_weights");
        if (id is not null && configPath is not null) throw m.ErrorAt("config_path", "give either model.id or model.config_path, not both");
        if (id is null && configPath is null && initial is null) throw m.ErrorAt("id", "is required: a preset, or model.config_path, or model.initial_weights");
        if (configPath is not null && !File.Exists(configPath)) throw m.ErrorAt("config_path", $"'{configPath}' not found");
        if (initial is not null && !Directory.Exists(initial)) throw m.ErrorAt("initial_weights", $"'{initial}' is not a directory");

        int? seqLen = m.OptionalInt("seq_len") ?? preset?.MaxPositions;
        if (seqLen is null) throw m.ErrorAt("seq_len", "is required when the model is not a preset");
        if (seqLen < 2) throw m.ErrorAt("seq_len", $"must be at least 2 (got {seqLen})");
        if (preset is not null && seqLen > preset.MaxPositions)
            throw m.ErrorAt("seq_len", $"must be at most {preset.MaxPositions}, the positions of {preset.Id} (got {seqLen})");
        var tokenizer = m.OptionalString("tokenizer") ?? initial ?? throw m.ErrorAt("tokenizer", "is required (a directory or tokenizer file) unless model.initial_weights is given");
        if (!File.Exists(tokenizer) && !Directory.Exists(tokenizer)) throw m.ErrorAt("tokenizer", $"'{tokenizer}' not found");

        var config = new PretrainModelConfig(
            id, preset, configPath, seqLen.Value, initial, tokenizer,
            m.Bool("scale_attn_by_inverse_layer_idx", false),
            m.Bool("reorder_and_upcast_attn", false),
            m.Bool("gradient_checkpointing", false));
        m.RejectUnknownKeys();
        return config;
    }

    private static TrainingArguments ReadTrainingArguments(YamlConfigNode t, int worldSize)
    {
        int perDevice = TrainConfigLoader.Positive(t, "per_device_train_batch_size", t.Int("per_device_train_batch_size", 8));
        int? effective = t.OptionalInt("effective_bsz");
        int? accumulation = t.OptionalInt("gradient_accumulation_steps");
        if (accumulation is < 1) throw t.ErrorAt("gradient_accumulation_steps", $"must be ≥ 1 (got {accumulation})");
        int perStep = perDevice * worldSize;
        if (effective is { } e)
        {
            if (e < 1) throw t.ErrorAt("effective_bsz", $"must be ≥ 1 (got {e})");
            if (e % perStep != 0)
                throw t.ErrorAt("effective_bsz", $"{e} is not a multiple of per_device_train_batch_size × world size = {perDevice} × {worldSize} = {perStep}");
            if (accumulation is { } a && a != e / perStep)
                throw t.ErrorAt("gradient_accumulation_steps", $"is {a}, but effective_bsz {e} / ({perDevice} × {worldSize}) = {e / perStep}; give one of the two");
            accumulation = e / perStep;
        }
        accumulation ??= 1;

        int maxSteps = TrainConfigLoader.Positive(t, "max_steps", t.OptionalInt("max_steps") ?? throw t.ErrorAt("max_steps", "is required"));
        int warmup = TrainConfigLoader.NonNegative(t, "warmup_steps", t.Int("warmup_steps", 0));
        if (warmup > maxSteps) throw t.ErrorAt("warmup_steps", $"is longer than max_steps ({warmup} > {maxSteps})");
        int logging = TrainConfigLoader.Positive(t, "logging_steps", t.Int("logging_steps", 500));
        var args = new TrainingArguments(
            perDevice,
            perStep * accumulation.Value,
            accumulation.Value,
            TrainConfigLoader.Positive(t, "learning_rate", t.Double("learning_rate", 5e-5)),
            InRange(t, "weight_decay", t.Double("weight_decay", 0), 0, 1, hiOpen: false),
            InRange(t, "adam_beta1", t.Double("adam_beta1", 0.9), 0, 1, hiOpen: true),
            InRange(t, "adam_beta2", t.Double("adam_beta2", 0.999), 0, 1, hiOpen: true),
            TrainConfigLoader.Positive(t, "adam_epsilon", t.Double("adam_epsilon", 1e-8)),
            InRange(t, "max_grad_norm", t.Double("max_grad_norm", 1.0), 0, double.MaxValue, hiOpen: false),
            maxSteps,
            t.OneOf("lr_scheduler_type", "linear", [.. LrSchedule.HuggingFaceTypes])!,
            warmup,
            t.Bool("bf16", false),
            logging,
            TrainConfigLoader.Positive(t, "eval_steps", t.Int("eval_steps", logging)))
        {
            ZeroStage = TrainConfigLoader.ReadZeroStage(t),
        };
        t.RejectUnknownKeys();
        return args;
    }

    private static double InRange(YamlConfigNode n, string key, double v, double lo, double hi, bool hiOpen) =>
        v >= lo && (hiOpen ? v < hi : v <= hi) ? v : throw n.ErrorAt(key, $"must be in [{lo}, {hi}{(hiOpen ? ")" : "]")} (got {v})");

    // stanford-crfm/mistral names runs after model, dataset and time; so do we: "gpt2-micro-corpus-20260101-120000".
    private static string DefaultRunId(PretrainModelConfig model, PretrainDatasetConfig dataset, DateTimeOffset now)
    {
        var modelName = model.Id ?? Path.GetFileName(Path.GetDirectoryName(model.ConfigPath ?? Path.Combine(model.InitialWeights!, "x")));
        var dataName = Path.GetFileNameWithoutExtension(dataset.TrainFiles[0]);
        var stamp = now.UtcDateTime.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        return string.Join('-', new[] { modelName, dataName, stamp }.Select(Sanitize));
    }

    private static string Sanitize(string? s) =>
        new((s is { Length: > 0 } ? s : "model").Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
}
