using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Mistral.Runtime.Training.Config;

/// <summary>
/// Reads a training YAML strictly: unknown keys, wrong types and out-of-range values fail with the file and the key path.
/// `--set key.path=value` overrides are applied to the YAML tree first (value parsed as YAML, so lists work).
/// Relative paths in the file are relative to the file's folder; relative paths given with --set to the working directory.
/// </summary>
public static class TrainConfigLoader
{
    public static TrainConfig Load(string file, IEnumerable<string>? overrides = null)
    {
        var full = System.IO.Path.GetFullPath(file);
        if (Model.RegularFile.Problem(full) is string problem) throw new TrainConfigException(file, "", problem == "file not found" ? "config file not found" : problem);
        return Parse(File.ReadAllText(full), full, overrides);
    }

    /// <summary>Parses YAML text; <paramref name="file"/> names it in errors and anchors relative paths.</summary>
    public static TrainConfig Parse(string yaml, string file, IEnumerable<string>? overrides = null)
    {
        var root = ParseYaml(yaml, file, "") as YamlMappingNode
            ?? throw new TrainConfigException(file, "", "expected a mapping of keys at the top level");
        var overridden = new HashSet<string>();
        foreach (var assignment in overrides ?? [])
            overridden.Add(ApplyOverride(root, assignment, file));

        var writer = new StringWriter(CultureInfo.InvariantCulture);
        new YamlStream(new YamlDocument(root)).Save(writer, assignAnchors: false);
        var baseDir = System.IO.Path.GetDirectoryName(file) ?? ".";
        string Resolve(string keyPath, string path) =>
            System.IO.Path.GetFullPath(overridden.Contains(keyPath) ? path : System.IO.Path.Combine(baseDir, path));

        var top = new YamlConfigNode(root, "", file);
        var config = Bind(top, Resolve, file, writer.ToString());
        top.RejectUnknownKeys();
        return config;
    }

    private static TrainConfig Bind(YamlConfigNode top, Func<string, string, string> resolve, string file, string effective)
    {
        var d = top.Child("data");
        IReadOnlyList<string> Files(string key)
        {
            var raw = d.Raw(key);
            string[] items = raw switch
            {
                null => [],
                YamlScalarNode { Value: var v } => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                YamlSequenceNode => d.OptionalStringList(key)!,
                _ => throw d.ErrorAt(key, "expected a path, a comma-separated list of paths or a list"),
            };
            return items.Select(p => resolve($"data.{key}", p)).ToArray();
        }
        var data = new DataConfig(
            Files("data"), Files("instruct_data"), Files("eval_instruct_data"),
            InRange(d, "eval_fraction", d.Double("eval_fraction", 0), 0, 0.9),
            InRange(d, "max_bad_line_fraction", d.Double("max_bad_line_fraction", 0.01), 0, 1));
        d.RejectUnknownKeys();
        if (data.Data.Count == 0 && data.InstructData.Count == 0)
            throw new TrainConfigException(file, "data", "needs data (pretrain jsonl) or instruct_data (instruct jsonl)");

        var o = top.Child("optim");
        var betas = o.OptionalDoubleList("betas") ?? [0.9, 0.999];
        if (betas.Length != 2 || betas.Any(b => b is < 0 or >= 1)) throw o.ErrorAt("betas", "expected two numbers in [0, 1)");
        var optim = new OptimConfig(
            InRange(o, "lr", Positive(o, "lr", o.Double("lr", 1e-4)), 0, 1),
            InRange(o, "weight_decay", o.Double("weight_decay", 0.1), 0, 1),
            InRange(o, "pct_start", o.Double("pct_start", 0.05), 0, 1),
            betas[0], betas[1],
            InRange(o, "eps", Positive(o, "eps", o.Double("eps", 1e-8)), 0, 1),
            o.OneOf("schedule", "one_cycle", "constant", "cosine", "one_cycle")!,
            NonNegative(o, "warmup_steps", o.Int("warmup_steps", 0)));
        o.RejectUnknownKeys();

        var lora = top.IsExplicitNull("lora") ? null : ReadLora(top.Child("lora"), resolve);

        int seqLen = top.Int("seq_len", 2048);
        if (seqLen < 2) throw top.ErrorAt("seq_len", $"must be at least 2 (got {seqLen})");
        int maxSteps = Positive(top, "max_steps", top.Int("max_steps", 100));
        var seed = top.Int("seed", 0);
        if (seed < 0) throw top.ErrorAt("seed", "must be ≥ 0");
        int? keep = top.OptionalInt("keep_last_checkpoints");
        if (keep is < 1) throw top.ErrorAt("keep_last_checkpoints", "must be ≥ 1 (leave it out to keep all)");

        return new TrainConfig(
            data,
            resolve("initial_model_path", top.RequiredString("initial_model_path")),
            resolve("run_dir", top.RequiredString("run_dir")),
            seqLen,
            Positive(top, "batch_size", top.Int("batch_size", 1)),
            Positive(top, "num_microbatches", top.Int("num_microbatches", 1)),
            maxSteps,
            optim,
            lora,
            (ulong)seed,
            Positive(top, "log_freq", top.Int("log_freq", 1)),
            Positive(top, "eval_freq", top.Int("eval_freq", 100)),
            top.Bool("no_eval", false),
            ReadCheckpointSchedule(top),
            keep,
            top.OptionalDouble("max_grad_norm") ?? 1.0,
            top.OneOf("device", "auto", "auto", "cpu", "cuda", "emu")!,
            top.OneOf("precision", "auto", "auto", "fp32", "bf16")!,
            top.Bool("recompute", false),
            file,
            effective)
        {
            SkipNonFinite = top.Bool("skip_nonfinite", false),
            ZeroStage = ReadZeroStage(top),
        };
    }

    /// <summary>zero_stage: 0 (default) or 1; ZeRO stages 2 and 3 (sharded gradients, sharded weights) are not implemented.</summary>
    internal static int ReadZeroStage(YamlConfigNode node)
    {
        int stage = node.Int("zero_stage", 0);
        return stage is 0 or 1 ? stage : throw node.ErrorAt("zero_stage", $"must be 0 (optimizer state on every rank) or 1 (sharded across the ranks) (got {stage})");
    }

    /// <summary>The lora section (absent: every default); `lora: null` is full-parameter fine-tuning instead.</summary>
    private static LoraConfig ReadLora(YamlConfigNode l, Func<string, string, string> resolve)
    {
        var targets = l.OptionalStringList("targets") ?? [.. LoraConfig.AllTargets];
        foreach (var t in targets)
            if (!LoraConfig.AllTargets.Contains(t)) throw l.ErrorAt("targets", $"unknown target '{t}' (expected some of {string.Join(", ", LoraConfig.AllTargets)})");
        var initFile = l.OptionalString("init_file");
        var lora = new LoraConfig(
            Positive(l, "rank", l.Int("rank", 16)),
            InRange(l, "dropout", l.Double("dropout", 0), 0, 0.99),
            InRange(l, "scaling", l.Double("scaling", 2.0), -1e4, 1e4),
            targets.Distinct().ToArray(),
            initFile is null ? null : resolve("lora.init_file", initFile),
            l.Bool("train_norms", true));
        l.RejectUnknownKeys();
        return lora;
    }

    private static CheckpointSchedule ReadCheckpointSchedule(YamlConfigNode top)
    {
        switch (top.Raw("ckpt_freq"))
        {
            case null:
                return CheckpointSchedule.Every(100);
            case YamlScalarNode:
                return CheckpointSchedule.Every(Positive(top, "ckpt_freq", top.Int("ckpt_freq", 100)));
            case YamlSequenceNode seq:
                return new CheckpointSchedule(CheckpointPairs(top, "ckpt_freq", seq));
            default:
                throw top.ErrorAt("ckpt_freq", "expected an integer or a list of [every, until] pairs");
        }
    }

    /// <summary>A list of [every, until] pairs (every ≥ 1, until increasing), read from <paramref name="seq"/> at <paramref name="key"/>.</summary>
    internal static List<(int Every, int Until)> CheckpointPairs(YamlConfigNode n, string key, YamlSequenceNode seq)
    {
        var pairs = new List<(int, int)>();
        int previousUntil = 0;
        for (int i = 0; i < seq.Children.Count; i++)
        {
            if (seq.Children[i] is not YamlSequenceNode { Children.Count: 2 } pair
                || !TryInt(pair.Children[0], out var every) || !TryInt(pair.Children[1], out var until)
                || every < 1 || until <= previousUntil)
                throw n.ErrorAt($"{key}[{i}]", "expected [every, until] with every ≥ 1 and until increasing");
            pairs.Add((every, until));
            previousUntil = until;
        }
        return pairs;
    }

    private static bool TryInt(YamlNode node, out int value)
    {
        value = 0;
        return node is YamlScalarNode { Value: { } v } && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out value);
    }

    internal static int Positive(YamlConfigNode n, string key, int v) => v >= 1 ? v : throw n.ErrorAt(key, $"must be ≥ 1 (got {v})");
    internal static int NonNegative(YamlConfigNode n, string key, int v) => v >= 0 ? v : throw n.ErrorAt(key, $"must be ≥ 0 (got {v})");
    internal static double Positive(YamlConfigNode n, string key, double v) => v > 0 ? v : throw n.ErrorAt(key, $"must be > 0 (got {v})");

    internal static double InRange(YamlConfigNode n, string key, double v, double lo, double hi) =>
        v >= lo && v <= hi ? v : throw n.ErrorAt(key, $"must be in [{lo}, {hi}] (got {v})");

    internal static YamlNode? ParseYaml(string yaml, string file, string what)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(yaml));
            return stream.Documents.Count == 0 ? new YamlMappingNode() : stream.Documents[0].RootNode;
        }
        catch (YamlException e)
        {
            throw new TrainConfigException(file, what, $"not valid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.InnerException?.Message ?? e.Message}");
        }
    }

    /// <summary>Applies "a.b.c=value" to the tree, creating mappings on the way; returns the key path.</summary>
    internal static string ApplyOverride(YamlMappingNode root, string assignment, string file)
    {
        int eq = assignment.IndexOf('=');
        if (eq <= 0) throw new TrainConfigException(file, "", $"--set '{assignment}': expected key.path=value");
        var keyPath = assignment[..eq].Trim();
        var parts = keyPath.Split('.');
        if (parts.Any(p => p.Length == 0)) throw new TrainConfigException(file, keyPath, $"--set '{assignment}': empty key in the path");
        var text = assignment[(eq + 1)..];
        var value = text.Trim().Length == 0 ? new YamlScalarNode("") : ParseYaml(text, file, keyPath) ?? new YamlScalarNode("");
        var node = root;
        for (int i = 0; i < parts.Length - 1; i++)
        {
            var key = new YamlScalarNode(parts[i]);
            if (!node.Children.TryGetValue(key, out var child))
                node.Children[key] = child = new YamlMappingNode();
            node = child as YamlMappingNode
                ?? throw new TrainConfigException(file, string.Join('.', parts[..(i + 1)]), $"--set '{assignment}': is not a mapping");
        }
        node.Children[new YamlScalarNode(parts[^1])] = value;
        return keyPath;
    }
}
