using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mistral.Runtime.Training.Pretrain.Data;

/// <summary>
/// manifest.json of a token cache folder, written last (temporary name, then renamed): its presence means the token
/// files beside it are complete. Validation is null when the run has no validation split. BadLines: how many lines
/// were skipped; BadLineExamples: the first few, "file:line: problem".
/// </summary>
public sealed record TokenCacheManifest(
    TokenCacheKey Key,
    TokenSplitInfo Train,
    TokenSplitInfo? Validation,
    int BadLines,
    IReadOnlyList<string> BadLineExamples)
{
    public const string FileName = "manifest.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>The key as canonical JSON: keys compare equal exactly when these strings do.</summary>
    public static string Canonical(TokenCacheKey key) => JsonSerializer.Serialize(key, Json);

    public void Write(string folder)
    {
        var path = System.IO.Path.Combine(folder, FileName);
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(this, Json));
        File.Move(path + ".tmp", path, overwrite: true);
    }

    /// <summary>The manifest in <paramref name="folder"/>, or null when it is missing or unreadable (treated as no cache).</summary>
    public static TokenCacheManifest? TryRead(string folder)
    {
        var path = System.IO.Path.Combine(folder, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            // A manifest of another layout may lack fields the records declare non-null: that is no cache either.
            var manifest = JsonSerializer.Deserialize<TokenCacheManifest>(File.ReadAllText(path), Json);
            return manifest is { Key.Sources: not null, Key.Tokenizer: not null, Train.File: not null, BadLineExamples: not null } ? manifest : null;
        }
        catch (JsonException) { return null; }
    }
}
