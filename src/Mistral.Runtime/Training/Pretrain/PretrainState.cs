using System.Text.Json;
using System.Text.Json.Serialization;
using Mistral.Runtime.Model;
using Mistral.Runtime.Training.Data;

namespace Mistral.Runtime.Training.Pretrain;

/// <summary>
/// training_state.json of a checkpoint-N folder: what resume needs beyond the weights and the optimizer — completed
/// steps, where the block loader stands (epoch and block within it), tokens seen, and the data's randomness. The only
/// random draw of a `train` run is the loader's shuffle, a pure function of (seed, epoch) (<see cref="Data.BlockLoader"/>),
/// so Seed with the position is its whole RNG state: resume jumps there instead of replaying the stream.
/// BlockCount pins the data the position refers to; WorldSize records how many ranks wrote it (any world size resumes).
/// </summary>
public sealed record PretrainState(
    [property: JsonPropertyName("global_step")] int Step,
    [property: JsonPropertyName("data_position")] DataLoaderPosition DataPosition,
    [property: JsonPropertyName("tokens_seen")] long TokensSeen,
    [property: JsonPropertyName("seed")] ulong Seed,
    [property: JsonPropertyName("train_blocks")] int BlockCount,
    [property: JsonPropertyName("world_size")] int WorldSize)
{
    public const string FileName = "training_state.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, IncludeFields = true, AllowDuplicateProperties = false };

    public void Write(string folder) => File.WriteAllText(Path.Combine(folder, FileName), JsonSerializer.Serialize(this, Json));

    public static PretrainState Read(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) throw new CheckpointFormatException(path, "missing");
        try
        {
            return JsonSerializer.Deserialize<PretrainState>(File.ReadAllText(path), Json) ?? throw new CheckpointFormatException(path, "empty");
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(path, $"not a valid training state: {e.Message}");
        }
    }
}
