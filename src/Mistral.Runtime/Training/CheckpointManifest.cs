using System.Security.Cryptography;
using System.Text.Json;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Training;

/// <summary>
/// manifest.json of a training checkpoint folder: the SHA-256 of every other file in it, written last, so a folder
/// whose manifest is missing was not finished and one whose files differ from it was damaged or edited. Both
/// finetune's step_N and train's checkpoint-N folders carry one.
/// </summary>
public static class CheckpointManifest
{
    public const string FileName = "manifest.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, AllowDuplicateProperties = false };

    /// <summary>Hashes every file of <paramref name="folder"/> (not sub-folders) into its manifest.json.</summary>
    public static void Write(string folder)
    {
        var manifest = Directory.GetFiles(folder).Select(Path.GetFileName).Where(n => n != FileName).Order(StringComparer.Ordinal)
            .ToDictionary(name => name!, name => Sha256(Path.Combine(folder, name!)), StringComparer.Ordinal);
        File.WriteAllText(Path.Combine(folder, FileName), JsonSerializer.Serialize(manifest, Json));
    }

    /// <summary>
    /// Checks every file listed against its hash and that <paramref name="required"/> are listed; throws naming the first
    /// problem. Returns the names listed, for checks that depend on which files a checkpoint has.
    /// </summary>
    public static IReadOnlyCollection<string> Verify(string folder, IEnumerable<string> required)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) throw new CheckpointFormatException(path, "missing: the checkpoint's files cannot be checked (incomplete, or written by an older mistral-cu)");
        Dictionary<string, string> manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path), Json) ?? [];
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, $"not a valid manifest: {e.Message}");
        }
        foreach (var name in required)
            if (!manifest.ContainsKey(name)) throw new CheckpointFormatException(path, $"does not list {name}");
        foreach (var (name, sha) in manifest)
        {
            var file = Path.Combine(folder, name);
            if (name != Path.GetFileName(name) || !File.Exists(file))
                throw new CheckpointFormatException(file, "listed in manifest.json but missing");
            if (!string.Equals(Sha256(file), sha, StringComparison.OrdinalIgnoreCase))
                throw new CheckpointFormatException(file, "does not match its SHA-256 in manifest.json: the checkpoint was damaged or edited");
        }
        return manifest.Keys;
    }

    private static string Sha256(string file)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
