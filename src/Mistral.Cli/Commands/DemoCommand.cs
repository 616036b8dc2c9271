using System.CommandLine;
using Mistral.Cli.Console;
using Mistral.Runtime.Devices;
using Mistral.Runtime.Generation;
using Mistral.Runtime.Model;

namespace Mistral.Cli.Commands;

/// <summary>
/// `mistral-cu demo MODEL`: mistral-src main.py demo(): three prompts in one batch, 35 tokens, temperature 0, no EOS
/// stop (its generate() has none); prints each prompt with its continuation and a separator line.
/// </summary>
internal static class DemoCommand
{
    public static readonly string[] Prompts =
    [
        "This is a test",
        "This is another great test",
        "This is a third test, mistral AI is very good at testing. ",
    ];

    public static Command Create()
    {
        var model = CommonOptions.ModelDir();
        var device = CommonOptions.Device();
        var allowNonFinite = CommonOptions.AllowNonFinite();
        var precision = CommonOptions.Precision();
        var maxTokens = new Option<int>("--max-tokens", "-n") { Description = "Tokens per prompt", DefaultValueFactory = _ => 35 };
        var command = new Command("demo", "Run the reference's three demo prompts (greedy, batched)") { model, device, allowNonFinite, precision, maxTokens };
        command.SetAction(parse => ErrorReporter.Run(parse, () =>
        {
            var output = parse.InvocationConfiguration.Output;
            using var ops = CommonOptions.OpenOps(parse, device, precision);
            using var loaded = LoadedModel.Load(parse.GetValue(model)!, ops, options: CommonOptions.LoadOptions(parse, allowNonFinite));
            var tokenizer = loaded.RequireTokenizer();
            var prompts = Prompts.Select(p => tokenizer.Encode(p, bos: tokenizer.AddsBos)).ToArray();
            var options = new GenerationOptions { MaxTokens = parse.GetValue(maxTokens), Sampling = SamplingOptions.Greedy, EosId = null, TokenLogprobs = false, SampleableVocab = loaded.SampleableVocab };
            var result = new Generator(loaded.Model).Generate(prompts, options);
            foreach (var sequence in result.Sequences)
            {
                output.WriteLine(tokenizer.Decode([.. sequence.Prompt, .. sequence.Tokens]));
                output.WriteLine("=====================");
            }
            parse.InvocationConfiguration.Error.WriteLine(result.Timings);
            return ExitCodes.Ok;
        }));
        return command;
    }
}
