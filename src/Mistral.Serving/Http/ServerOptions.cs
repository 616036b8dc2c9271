namespace Mistral.Serving.Http;

/// <summary>
/// Where the server listens and what it accepts. Port 0 takes any free port (tests). ApiKey set: /v1 routes need
/// "Authorization: Bearer KEY". MaxRequestBodyBytes: larger bodies are refused with 413 before they are read.
/// </summary>
public sealed record ServerOptions
{
    public string Host { get; init; } = "127.0.0.1";
    public int Port { get; init; } = 8000;
    public string? ApiKey { get; init; }
    public long MaxRequestBodyBytes { get; init; } = 8 << 20;
}
