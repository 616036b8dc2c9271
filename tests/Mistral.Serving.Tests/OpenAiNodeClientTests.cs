using System.Diagnostics;
using Mistral.Testing;
using Xunit;

namespace Mistral.Serving.Tests;

/// <summary>
/// Runs js/openai-client.test.mjs (node's test runner, the official openai client pinned in js/package-lock.json,
/// installed by .ci/run with npm ci) against the in-process server, once over each family's fixture: tiny-mistral
/// (completions, streaming chat) and tiny-gpt2 (completions, streaming completions, chat refused for want of a template).
/// Skips, saying why, without node or the package.
/// </summary>
public sealed class OpenAiNodeClientTests(TinyServer mistral, TinyGpt2Server gpt2) : IClassFixture<TinyServer>, IClassFixture<TinyGpt2Server>
{
    private static string JsDirectory => Path.GetFullPath(Path.Combine(Fixtures.Root, "..", "Mistral.Serving.Tests", "js"));

    [Fact]
    public Task OfficialClient_TinyMistral_CompletionsChatStreamingAndErrorsPass() => RunSuiteAsync(mistral);

    [Fact]
    public Task OfficialClient_TinyGpt2_CompletionsStreamingChatRefusalAndErrorsPass() => RunSuiteAsync(gpt2);

    private static async Task RunSuiteAsync(TinyServer server)
    {
        string? node = FindOnPath("node");
        if (node is null) Assert.Skip("node is not on PATH: the openai client tests need Node.js 20+");
        if (!File.Exists(Path.Combine(JsDirectory, "node_modules", "openai", "package.json")))
            Assert.Skip($"the openai package is not installed: run `npm ci` in {JsDirectory} (.ci/run does)");

        var start = new ProcessStartInfo(node!, ["--test", "--test-reporter=spec", "openai-client.test.mjs"])
        {
            WorkingDirectory = JsDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["MISTRAL_CU_BASE_URL"] = new Uri(server.Host.BaseAddress, "v1").ToString();
        start.Environment["MISTRAL_CU_API_KEY"] = TinyServer.ApiKey;
        start.Environment["MISTRAL_CU_MODEL"] = server.Name;
        start.Environment["MISTRAL_CU_CHAT"] = server.Host.Model.ChatTemplate is null ? "0" : "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        string output = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"node --test exited {process.ExitCode}:\n{output}");
        Assert.Contains("fail 0", output);
        Assert.Equal(0, await server.LiveRowsAfterSettlingAsync());
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}
