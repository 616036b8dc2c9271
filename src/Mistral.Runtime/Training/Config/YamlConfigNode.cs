using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Mistral.Runtime.Training.Config;

/// <summary>
/// A typed, strict view of one YAML mapping: every getter names the full key path in its error, and
/// <see cref="RejectUnknownKeys"/> turns any key nobody asked for into an error (a typo never goes unnoticed).
/// </summary>
internal sealed class YamlConfigNode
{
    private readonly YamlMappingNode _node;
    private readonly HashSet<string> _read = [];
    private readonly IReadOnlyDictionary<string, string>? _origins;

    /// <param name="origins">For a tree merged from several files (inherit, --set): the file each key path came from;
    /// errors name the origin of the key or of its nearest parent, else <paramref name="file"/>.</param>
    public YamlConfigNode(YamlMappingNode node, string path, string file, IReadOnlyDictionary<string, string>? origins = null)
    {
        _node = node;
        Path = path;
        File = file;
        _origins = origins;
    }

    public string Path { get; }
    public string File { get; }

    private string KeyPath(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    private YamlNode? Get(string key)
    {
        _read.Add(key);
        foreach (var (k, v) in _node.Children)
            if (k is YamlScalarNode { Value: var name } && name == key)
                return IsNull(v) ? null : v;
        return null;
    }

    /// <summary>True when <paramref name="key"/> is present with a null value (e.g. `lora: null`), as opposed to absent.</summary>
    public bool IsExplicitNull(string key)
    {
        _read.Add(key);
        return _node.Children.Any(c => c.Key is YamlScalarNode { Value: var name } && name == key && IsNull(c.Value));
    }

    internal static bool IsNull(YamlNode node) =>
        node is YamlScalarNode s && s.Style == YamlDotNet.Core.ScalarStyle.Plain && s.Value is null or "" or "~" or "null" or "Null" or "NULL";

    private TrainConfigException Error(string key, string problem) => new(OriginOf(KeyPath(key)), KeyPath(key), problem);

    private string OriginOf(string keyPath)
    {
        if (_origins is null) return File;
        for (var p = keyPath; p.Length > 0; p = p[..Math.Max(0, p.LastIndexOfAny(['.', '[']))])
            if (_origins.TryGetValue(p, out var origin))
                return origin;
        return File;
    }

    private string Scalar(string key, YamlNode node, string expected) =>
        node is YamlScalarNode { Value: { } v } ? v : throw Error(key, $"expected {expected}, got a {Describe(node)}");

    private static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "mapping",
        YamlSequenceNode => "list",
        _ => "value",
    };

    public string? OptionalString(string key) => Get(key) is { } n ? Scalar(key, n, "a string") : null;

    public string String(string key, string fallback) => OptionalString(key) ?? fallback;

    public string RequiredString(string key) =>
        OptionalString(key) is { Length: > 0 } s ? s : throw Error(key, "is required");

    public int? OptionalInt(string key)
    {
        if (Get(key) is not { } n) return null;
        var text = Scalar(key, n, "an integer");
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw Error(key, $"expected an integer, got '{text}'");
    }

    public int Int(string key, int fallback) => OptionalInt(key) ?? fallback;

    public double? OptionalDouble(string key) => Get(key) is { } n ? ParseDouble(key, n) : null;

    public double Double(string key, double fallback) => OptionalDouble(key) ?? fallback;

    private double ParseDouble(string key, YamlNode n)
    {
        var text = Scalar(key, n, "a number");
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
            throw Error(key, $"expected a number, got '{text}'");
        // One rule for every number of the config: finite as the fp32 the kernels compute with (1e39 is not).
        if (!float.IsFinite((float)v) || (v != 0 && (float)v == 0))
            throw Error(key, $"{text} is outside what a 32-bit float holds ({float.Epsilon:G3} to {float.MaxValue:G3} in magnitude)");
        return v;
    }

    public bool Bool(string key, bool fallback)
    {
        if (Get(key) is not { } n) return fallback;
        var text = Scalar(key, n, "true or false");
        return text.ToLowerInvariant() switch
        {
            "true" or "yes" or "on" => true,
            "false" or "no" or "off" => false,
            _ => throw Error(key, $"expected true or false, got '{text}'"),
        };
    }

    public string? OneOf(string key, string fallback, params string[] allowed)
    {
        var value = String(key, fallback);
        return allowed.Contains(value) ? value : throw Error(key, $"expected one of {string.Join(", ", allowed)}, got '{value}'");
    }

    public IReadOnlyList<YamlNode>? OptionalList(string key)
    {
        if (Get(key) is not { } n) return null;
        return n is YamlSequenceNode seq ? seq.Children.ToArray() : throw Error(key, $"expected a list, got a {Describe(n)}");
    }

    public string[]? OptionalStringList(string key) =>
        OptionalList(key)?.Select((n, i) => Scalar($"{key}[{i}]", n, "a string")).ToArray();

    public double[]? OptionalDoubleList(string key) =>
        OptionalList(key)?.Select((n, i) => ParseDouble($"{key}[{i}]", n)).ToArray();

    /// <summary>The raw node of a key that may take several shapes (e.g. ckpt_freq: an int or a list of pairs).</summary>
    public YamlNode? Raw(string key) => Get(key);

    public TrainConfigException ErrorAt(string key, string problem) => Error(key, problem);

    /// <summary>A nested mapping; an absent key gives an empty mapping so defaults apply.</summary>
    public YamlConfigNode Child(string key)
    {
        var n = Get(key);
        return n switch
        {
            null => new YamlConfigNode(new YamlMappingNode(), KeyPath(key), File, _origins),
            YamlMappingNode m => new YamlConfigNode(m, KeyPath(key), File, _origins),
            _ => throw Error(key, $"expected a mapping, got a {Describe(n)}"),
        };
    }

    public void RejectUnknownKeys()
    {
        foreach (var (k, _) in _node.Children)
        {
            var name = (k as YamlScalarNode)?.Value ?? k.ToString();
            if (!_read.Contains(name))
                throw Error(name, $"unknown key (known here: {string.Join(", ", _read.Order())})");
        }
    }
}
