using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using Mistral.Cli.Console;
using Mistral.Runtime.Model;
using Mistral.Runtime.Tokenizer;
using Mistral.Runtime.Training.Data;

namespace Mistral.Cli.Commands;

/// <summary>
/// `mistral-cu tokenize PATH`: text → ids (--text), a JSONL dataset → JSONL with ids (--jsonl), or ids → text
/// (--decode), with the same tokenizer the model verbs use.
/// </summary>
internal static class TokenizeCommand
{
    // Readable JSON: non-ASCII text stays as it is (controls and quotes are still escaped).
    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var options = new Options();
        var command = new Command("tokenize", "Encode text to token ids or decode ids to text. Give exactly one of --text, --jsonl, --decode.")
        {
            options.Path, options.Text, options.Jsonl, options.DecodeIds, options.Bos, options.NoBos, options.Eos, options.Json, options.Output,
        };
        command.SetAction(parse => ErrorReporter.Run(parse, () => Execute(parse, options)));
        return command;
    }

    // The verb's symbols, made per command instance (a symbol belongs to one parent command tree).
    private sealed class Options
    {
        public readonly Argument<string> Path = new("PATH") { Description = "Model directory (tokenizer.model, else tokenizer.json) or a tokenizer file" };
        public readonly Option<string?> Text = new("--text") { HelpName = "TEXT", Description = "Encode this text; prints the ids on one line, space-separated" };
        public readonly Option<FileInfo?> Jsonl = new("--jsonl") { HelpName = "FILE", Description = "Encode every line {\"text\": ...} of this file; writes {\"text\": ..., \"ids\": [...]} lines (a count goes to stderr)" };
        public readonly Option<string?> DecodeIds = new("--decode") { HelpName = "IDS", Description = "Decode these ids (\"1 22557 1526\" or a JSON array) and print the text" };
        public readonly Option<bool> Bos = new("--bos") { Description = "Add the BOS id before each text (the default for SentencePiece tokenizers: Mistral, Llama)" };
        public readonly Option<bool> NoBos = new("--no-bos") { Description = "Add no BOS id (the default for GPT-2's byte-level BPE, which has none)" };
        public readonly Option<bool> Eos = new("--eos") { Description = "Add the EOS id after each text" };
        public readonly Option<bool> Json = new("--json") { Description = "With --text: print {\"text\": ..., \"ids\": [...]} instead of bare ids" };
        public readonly Option<FileInfo?> Output = new("--output", "-o") { HelpName = "FILE", Description = "Write to this file instead of stdout" };
    }

    private static int Execute(ParseResult parse, Options o)
    {
        var modes = new object?[] { parse.GetValue(o.Text), parse.GetValue(o.Jsonl), parse.GetValue(o.DecodeIds) }.Count(v => v is not null);
        if (modes != 1)
            throw new ArgumentException("tokenize: give exactly one of --text, --jsonl, --decode");
        if (parse.GetValue(o.Bos) && parse.GetValue(o.NoBos))
            throw new ArgumentException("tokenize: give --bos or --no-bos, not both");
        var tokenizer = TokenizerFiles.Load(parse.GetValue(o.Path)!);
        // The tokenizer's own convention, as Hugging Face and llama.cpp apply it: SentencePiece models (Mistral) start
        // every text with BOS, GPT-2's byte-level BPE adds nothing.
        var bos = parse.GetValue(o.Bos) || (!parse.GetValue(o.NoBos) && tokenizer.AddsBos);
        var eos = parse.GetValue(o.Eos);

        var outputFile = parse.GetValue(o.Output);
        using var fileWriter = outputFile is null ? null : new StreamWriter(outputFile.FullName);
        var output = fileWriter ?? parse.InvocationConfiguration.Output;

        if (parse.GetValue(o.Text) is { } text)
        {
            var ids = tokenizer.Encode(text, bos, eos);
            output.WriteLine(parse.GetValue(o.Json) ? Record(text, ids) : string.Join(' ', ids));
        }
        else if (parse.GetValue(o.Jsonl) is { } jsonl)
        {
            var (lines, tokens) = EncodeJsonl(tokenizer, jsonl.FullName, bos, eos, output);
            parse.InvocationConfiguration.Error.WriteLine($"tokenized {lines} lines, {tokens} tokens");
        }
        else
        {
            output.WriteLine(tokenizer.Decode(ParseIds(parse.GetValue(o.DecodeIds)!)));
        }
        return ExitCodes.Ok;
    }

    private static (int Lines, long Tokens) EncodeJsonl(ITokenizer tokenizer, string path, bool bos, bool eos, TextWriter output)
    {
        if (RegularFile.Problem(path) is string problem)
            throw new FileNotFoundException($"{path}: {(problem == "file not found" ? "no such file" : problem)} (--jsonl)");
        var (lines, tokens, lineNumber) = (0, 0L, 0);
        foreach (var (number, line) in Utf8Lines.Read(path))
        {
            lineNumber = number;
            if (line is null)
                throw new FormatException($"{path}:{number}: not valid UTF-8");
            if (string.IsNullOrWhiteSpace(line))
                continue;
            var text = ReadText(line, path, lineNumber);
            var ids = tokenizer.Encode(text, bos, eos);
            output.WriteLine(Record(text, ids));
            lines++;
            tokens += ids.Length;
        }
        return (lines, tokens);
    }

    private static string ReadText(string line, string path, int lineNumber)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("text", out var text) && text.ValueKind == JsonValueKind.String)
                return text.GetString()!;
        }
        catch (JsonException e)
        {
            throw new FormatException($"{path}:{lineNumber}: not valid JSON ({e.Message})", e);
        }
        throw new FormatException($"{path}:{lineNumber}: expected an object with a string field \"text\"");
    }

    private static string Record(string text, int[] ids)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, JsonOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("text", text);
            writer.WriteStartArray("ids");
            foreach (var id in ids)
                writer.WriteNumberValue(id);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    // "1 2 3", "1,2,3" and "[1, 2, 3]" all work, so output of --text or --json can be pasted back.
    private static int[] ParseIds(string ids)
    {
        var parts = ids.Split([' ', ',', '[', ']', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
        return parts.Select(p => int.TryParse(p, out var id) ? id
            : throw new FormatException($"--decode: '{p}' is not a token id (expected integers such as \"1 22557 1526\")")).ToArray();
    }
}
