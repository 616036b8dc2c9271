using Mistral.Kernels.Ops;

namespace Mistral.Runtime.Parity;

/// <summary>
/// Runs a parity fixture's cases on one device: what `mistral-cu parity` does, callable from tests.
/// The model comes from <paramref name="modelDir"/> when given (any layout of the same model), else from the first
/// model directory index.json lists that exists.
/// </summary>
public static class ParityRunner
{
    public static IReadOnlyList<ParityCaseResult> Run(string fixtureDir, IOps ops, string? caseName = null, string? modelDir = null,
        IReadOnlyList<IParityCaseKind>? kinds = null, Action<ParityCaseResult>? onResult = null)
    {
        var index = ParityIndex.Load(fixtureDir);
        kinds ??= ParityCaseKinds.All;
        var cases = index.Cases.Where(c => caseName is null || c.Name == caseName).ToList();
        if (cases.Count == 0)
            throw new ArgumentException($"{Path.Combine(fixtureDir, "index.json")}: no case named '{caseName}' (cases: {string.Join(", ", index.Cases.Select(c => c.Name))})");

        using var context = new ParityContext(index.FixtureDir, ops, ResolveModelDir(index, modelDir));
        var results = new List<ParityCaseResult>();
        foreach (var testCase in cases)
        {
            var kind = kinds.FirstOrDefault(k => k.Kind == testCase.Kind);
            var result = kind is null
                ? ParityCaseResult.Skip(testCase, $"kind '{testCase.Kind}' is not supported by this build")
                : kind.Run(testCase, context);
            results.Add(result);
            onResult?.Invoke(result);
        }
        return results;
    }

    private static string ResolveModelDir(ParityIndex index, string? modelDir)
    {
        if (modelDir is not null) return modelDir;
        foreach (var (_, dir) in index.ModelDirs)
            if (Directory.Exists(dir)) return dir;
        throw new ParityFormatException(Path.Combine(index.FixtureDir, "index.json"),
            index.ModelDirs.Count == 0 ? "no model directory listed under 'model' (pass --model DIR)"
            : $"none of the listed model directories exists ({string.Join(", ", index.ModelDirs.Select(m => m.Dir))}); pass --model DIR");
    }
}
