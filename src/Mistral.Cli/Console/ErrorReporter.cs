using System.CommandLine;

namespace Mistral.Cli.Console;

/// <summary>
/// The one place where exceptions become a message and an exit code. Library code throws typed exceptions that name
/// the file or field; here they become one line on stderr (the stack trace only with --verbose) and exit code 2.
/// </summary>
public static class ErrorReporter
{
    /// <summary>Global option: print stack traces.</summary>
    public static readonly Option<bool> Verbose = new("--verbose") { Description = "Print stack traces on errors", Recursive = true };

    /// <summary>
    /// Runs a verb body, mapping any exception to exit code 2 with one clear line; <paramref name="source"/> (e.g.
    /// "rank 1: " in a data-parallel run) goes before the message.
    /// </summary>
    public static int Run(ParseResult parse, Func<int> body, string source = "")
    {
        try
        {
            return body();
        }
        catch (Exception e)
        {
            var message = Message(e is AggregateException { InnerExceptions.Count: 1 } agg ? agg.InnerExceptions[0] : e);
            // The invocation's Error writer is Console.Error unless a test (or a host) redirects it.
            var error = parse.InvocationConfiguration.Error;
            error.WriteLine($"error: {source}{message}");
            if (parse.GetValue(Verbose))
                error.WriteLine(e);
            return ExitCodes.BadInput;
        }
    }

    /// <summary>
    /// The line a user reads: the exception's own message (library exceptions name the file or field), without the
    /// " (Parameter 'x')" .NET appends to argument errors; out of memory says what to change.
    /// </summary>
    public static string Message(Exception e) => e switch
    {
        OutOfMemoryException => "out of host memory; use a smaller model, batch, context (--chunk-size for long prompts) or LoRA rank",
        ArgumentException { ParamName: not null } a when a.Message.IndexOf(" (Parameter '", StringComparison.Ordinal) is var cut and > 0 => a.Message[..cut],
        _ => e.Message,
    };
}
