using Mistral.Runtime.Training.Config;
using YamlDotNet.RepresentationModel;

namespace Mistral.Runtime.Training.Pretrain;

/// <summary>
/// One YAML tree merged from a file and the files it names in `inherit` (one path or a list, relative to the file;
/// inherited files first, in list order, then the file itself; nested inherits allowed, cycles refused).
/// Mappings merge key by key; any other value replaces the earlier one whole (lists are not concatenated).
/// Each file's path values (<paramref name="pathKeys"/>) are made absolute against that file's folder before merging,
/// and Origins records which file set each key path, so errors can name it.
/// </summary>
internal sealed class InheritedYaml
{
    public const string InheritKey = "inherit";
    public const string SetOrigin = "--set";

    private readonly IReadOnlySet<string> _pathKeys;
    private readonly Dictionary<string, string> _origins = [];
    private readonly List<string> _files = [];

    private InheritedYaml(IReadOnlySet<string> pathKeys) => _pathKeys = pathKeys;

    public YamlMappingNode Root { get; } = new();
    public IReadOnlyDictionary<string, string> Origins => _origins;
    /// <summary>Every file read, in merge order.</summary>
    public IReadOnlyList<string> Files => _files;

    public static InheritedYaml Load(string file, IReadOnlySet<string> pathKeys)
    {
        var merged = new InheritedYaml(pathKeys);
        merged.Include(Path.GetFullPath(file), []);
        return merged;
    }

    /// <summary>Applies one --set key.path=value (paths in it relative to the working directory); returns the key path.</summary>
    public string ApplyOverride(string assignment, string configFile)
    {
        var keyPath = TrainConfigLoader.ApplyOverride(Root, assignment, configFile);
        ResolvePaths(Root, "", Environment.CurrentDirectory, only: keyPath);
        _origins[keyPath] = SetOrigin;
        return keyPath;
    }

    private void Include(string file, List<string> stack)
    {
        if (stack.Contains(file))
            throw new TrainConfigException(stack[^1], InheritKey, $"inherits itself through {string.Join(" -> ", stack.Append(file).Select(Path.GetFileName))}");
        if (!File.Exists(file))
            throw new TrainConfigException(stack.Count > 0 ? stack[^1] : file, stack.Count > 0 ? InheritKey : "",
                stack.Count > 0 ? $"inherited file '{file}' not found" : "config file not found");
        var tree = TrainConfigLoader.ParseYaml(File.ReadAllText(file), file, "") switch
        {
            YamlMappingNode m => m,
            YamlScalarNode { Value: null or "" } => new YamlMappingNode(),
            _ => throw new TrainConfigException(file, "", "expected a mapping of keys at the top level"),
        };
        var dir = Path.GetDirectoryName(file)!;
        stack.Add(file);
        foreach (var parent in InheritedFiles(tree, file))
            Include(Path.GetFullPath(Path.Combine(dir, parent)), stack);
        stack.RemoveAt(stack.Count - 1);

        ResolvePaths(tree, "", dir, only: null);
        Merge(Root, tree, "", file);
        _files.Add(file);
    }

    private static IEnumerable<string> InheritedFiles(YamlMappingNode tree, string file)
    {
        var key = new YamlScalarNode(InheritKey);
        if (!tree.Children.TryGetValue(key, out var value)) return [];
        tree.Children.Remove(key);
        return value switch
        {
            YamlScalarNode { Value: { Length: > 0 } v } => [v],
            YamlSequenceNode seq when seq.Children.All(c => c is YamlScalarNode { Value.Length: > 0 }) =>
                seq.Children.Select(c => ((YamlScalarNode)c).Value!).ToArray(),
            _ => throw new TrainConfigException(file, InheritKey, "expected a file name or a list of file names"),
        };
    }

    private void Merge(YamlMappingNode into, YamlMappingNode from, string prefix, string file)
    {
        foreach (var (k, v) in from.Children)
        {
            var name = (k as YamlScalarNode)?.Value ?? k.ToString();
            var keyPath = prefix.Length == 0 ? name : $"{prefix}.{name}";
            if (into.Children.TryGetValue(k, out var old) && old is YamlMappingNode oldMap && v is YamlMappingNode newMap)
            {
                Merge(oldMap, newMap, keyPath, file);
                continue;
            }
            foreach (var stale in _origins.Keys.Where(p => p.StartsWith(keyPath + ".", StringComparison.Ordinal)).ToArray())
                _origins.Remove(stale);
            into.Children[k] = v;
            _origins[keyPath] = file;
        }
    }

    // Rewrites the path values of one file's tree (or only the key path --set just assigned) to absolute paths.
    private void ResolvePaths(YamlMappingNode tree, string prefix, string dir, string? only)
    {
        foreach (var (k, v) in tree.Children.ToArray())
        {
            var name = (k as YamlScalarNode)?.Value ?? "";
            var keyPath = prefix.Length == 0 ? name : $"{prefix}.{name}";
            if (v is YamlMappingNode m) { ResolvePaths(m, keyPath, dir, only); continue; }
            if (!_pathKeys.Contains(keyPath) || (only is not null && keyPath != only && !keyPath.StartsWith(only + ".", StringComparison.Ordinal))) continue;
            tree.Children[k] = v switch
            {
                YamlScalarNode s when !YamlConfigNode.IsNull(s) => new YamlScalarNode(Absolute(dir, s.Value!)),
                YamlSequenceNode seq => new YamlSequenceNode(seq.Children.Select(c =>
                    c is YamlScalarNode s && !YamlConfigNode.IsNull(s) ? new YamlScalarNode(Absolute(dir, s.Value!)) : c)),
                _ => v,
            };
        }
    }

    private static string Absolute(string dir, string path) => Path.GetFullPath(Path.Combine(dir, path));
}
