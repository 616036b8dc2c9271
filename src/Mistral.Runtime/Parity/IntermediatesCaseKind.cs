using Mistral.Kernels.Ops;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Parity;

/// <summary>
/// kind "intermediates": one prompt ("prompt") through a cache-free forward with an <see cref="ActivationObserver"/>;
/// every tensor of the case's file that the model reports under the same name is compared (embed,
/// layers.{i}.q_rope, …, norm_out). Tensors it does not produce (rope tables, tokens) are listed, not compared.
/// </summary>
public sealed class IntermediatesCaseKind : IParityCaseKind
{
    public string Kind => "intermediates";

    public ParityCaseResult Run(ParityCase testCase, ParityContext context)
    {
        var prompt = testCase.IntArray(testCase.Required("prompt"), "prompt");
        using var file = testCase.OpenFile(context.FixtureDir);

        var observed = new Dictionary<string, float[]>();
        context.Model.Forward(prompt, AttentionBatch.FromLengths([prompt.Length]), observe: (name, tensor) =>
        {
            var host = new float[tensor.ElementCount];
            context.Ops.Download(tensor, host);
            observed[name] = host;
        });

        var diff = new WorstDiff();
        var notCompared = new List<string>();
        bool? tokensEqual = null;
        foreach (var name in file.Names)
        {
            if (name == "tokens" && !ParityCase.IsFloat(file, name))
                tokensEqual = ParityCase.ReadInts(file, name).SequenceEqual(prompt);
            else if (observed.TryGetValue(name, out var actual))
                diff.Add(name, ParityCase.ReadFloats(file, name), actual);
            else
                notCompared.Add(name);
        }
        if (diff.Worst == "-")
            return new ParityCaseResult(testCase.Name, Kind, ParityStatus.Fail, null, tokensEqual, testCase.AbsTolerance,
                "no tensor of the file matches an activation name the model reports");
        string detail = $"worst {diff.Worst}" + (notCompared.Count > 0 ? $"; not compared: {string.Join(", ", notCompared)}" : "");
        return ParityCaseResult.Judge(testCase, diff.Max, tokensEqual, testCase.AbsTolerance, detail);
    }
}
