using System.CommandLine;
using Mistral.Cli.Console;
using Mistral.Runtime.Chat;
using Mistral.Runtime.Devices;
using Mistral.Runtime.Generation;
using Mistral.Runtime.Model;

namespace Mistral.Cli.Commands;

/// <summary>
/// `mistral-cu chat MODEL`: the reference's `interactive` loop, keeping the whole conversation in Mistral's instruct
/// format (<see cref="ChatTemplate"/>: BOS [INST] user [/INST] answer EOS [INST] user [/INST] …), re-read from the
/// start each turn. Reads one user
/// message per stdin line and stops at end of input.
/// </summary>
internal static class ChatCommand
{
    public static Command Create()
    {
        var model = CommonOptions.ModelDir();
        var device = CommonOptions.Device();
        var allowNonFinite = CommonOptions.AllowNonFinite();
        var precision = CommonOptions.Precision();
        var sampling = new SamplingCliOptions(defaultMaxTokens: 256, defaultTemperature: 0.7f);
        var command = new Command("chat", "Talk to an instruct model, one message per line (Ctrl-D ends)") { model, device, allowNonFinite, precision };
        sampling.AddTo(command);
        command.SetAction(parse => ErrorReporter.Run(parse, () =>
        {
            var output = parse.InvocationConfiguration.Output;
            ulong seed = sampling.Seed(parse);
            sampling.Generation(parse, seed, eosId: null); // checks the options before a device is opened
            using var ops = CommonOptions.OpenOps(parse, device, precision);
            using var loaded = LoadedModel.Load(parse.GetValue(model)!, ops, options: CommonOptions.LoadOptions(parse, allowNonFinite));
            var tokenizer = loaded.RequireTokenizer();
            var template = ChatTemplate.For(tokenizer)
                ?? throw new ArgumentException($"chat: {loaded.DirectoryPath} has no chat template (its tokenizer is not a Mistral instruct vocabulary); use generate");
            var generator = new Generator(loaded.Model);
            int eos = template.EosId;

            var conversation = new List<int> { template.BosId };
            for (int turn = 0; ; turn++)
            {
                output.Write("> ");
                output.Flush();
                string? line = System.Console.In.ReadLine();
                if (line is null) break;
                if (string.IsNullOrWhiteSpace(line)) continue;

                conversation.AddRange(template.User(line.Trim()));
                // A fresh seed stream per turn, so one turn's length does not shift the next turn's draws.
                var options = sampling.Generation(parse, seed + (ulong)turn, eos) with { TokenLogprobs = false, SampleableVocab = loaded.SampleableVocab };   // chat prints text only
                var streams = new TextStreams(tokenizer, 1, sampling.StopStrings(parse), (_, delta) =>
                {
                    output.Write(delta);
                    output.Flush();
                });
                var result = generator.Generate([conversation.ToArray()], options, streams.OnToken);
                streams.Finish();
                output.WriteLine();
                parse.InvocationConfiguration.Error.WriteLine($"{result.Timings} | seed {seed + (ulong)turn}");

                var answer = result.Sequences[0].Tokens;
                conversation.AddRange(answer);
                if (answer.Length == 0 || answer[^1] != eos) conversation.Add(eos); // close the turn as the template does
            }
            output.WriteLine();
            return ExitCodes.Ok;
        }));
        return command;
    }
}
