using System.CommandLine;
using System.Text.RegularExpressions;

namespace Mistral.Cli.Console;

/// <summary>
/// How a command line that does not parse is answered: one line in the user's words (System.CommandLine's own names
/// types as .NET spells them, `System.Nullable`1[System.UInt64]`), a pointer to the verb's --help, and exit code 2,
/// the code of every other bad input (its default, 1, is what a failed check returns).
/// </summary>
public static partial class UsageErrors
{
    public static int Report(ParseResult parse, TextWriter error)
    {
        // "frobnicate" gives "unrecognized 'frobnicate'" and "required command not provided": the first is what went wrong.
        var first = parse.Errors.FirstOrDefault(e => !e.Message.StartsWith("Required command", StringComparison.Ordinal)) ?? parse.Errors[0];
        var message = Describe(first.Message);
        error.WriteLine($"error: {message} (see '{CommandPath(parse)} --help')");
        return ExitCodes.BadInput;
    }

    /// <summary>A parse error's message without .NET type names.</summary>
    public static string Describe(string message)
    {
        var conversion = ConversionError().Match(message);
        if (conversion.Success)
            return $"{conversion.Groups["kind"].Value} '{conversion.Groups["name"].Value}': '{conversion.Groups["value"].Value}' is not {Expected(conversion.Groups["type"].Value)}";
        return message.TrimEnd('.');
    }

    private static string Expected(string type) => type switch
    {
        _ when type.Contains("UInt", StringComparison.Ordinal) => "a whole number >= 0",
        _ when type.Contains("Int", StringComparison.Ordinal) => "a whole number",
        _ when type.Contains("Single", StringComparison.Ordinal) || type.Contains("Double", StringComparison.Ordinal) => "a number",
        _ when type.Contains("Boolean", StringComparison.Ordinal) => "true or false",
        _ when type.Contains("FileInfo", StringComparison.Ordinal) || type.Contains("DirectoryInfo", StringComparison.Ordinal) => "a path",
        _ => "a value this option takes",
    };

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
            names.Add(result.Command is RootCommand ? "mistral-cu" : result.Command.Name);
        names.Reverse();
        return string.Join(' ', names);
    }

    [GeneratedRegex(@"^Cannot parse argument '(?<value>.*)' for (?<kind>option|argument|command) '(?<name>.*)' as expected type '(?<type>.*)'\.?$", RegexOptions.Singleline)]
    private static partial Regex ConversionError();
}
