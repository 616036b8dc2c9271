using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Model.Pth;
using Mistral.Runtime.Models.Gpt2;
using Mistral.Runtime.Tests.Model;
using Mistral.Testing;
using Xunit;

namespace Mistral.Runtime.Tests.Models.Gpt2;

/// <summary>
/// Every layout a GPT-2 model comes in, written from the tiny-gpt2 fixture, must read back the fixture's numbers under
/// the canonical names, Conv1D weights transposed to [out, in].
/// </summary>
public sealed class Gpt2CheckpointTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly IReadOnlyList<HostTensor> _stored = TinyGpt2Files.Stored();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Variants() => [.. TinyGpt2Files.Variants];

    [Theory]
    [MemberData(nameof(Variants))]
    public void Open_EveryLayout_ReadsTheFixtureTensorsInEngineLayout(string variant)
    {
        var (directory, dtype) = Write(variant);
        var config = Gpt2ConfigReader.FromConfigJson(Path.Combine(directory, "config.json"));
        using var checkpoint = Gpt2Checkpoint.Open(directory, config);

        var expectedNames = Gpt2TensorNames.Expected(config);
        Assert.Equal(28, expectedNames.Count);
        Assert.Equal(expectedNames.Select(e => e.Name).Order(StringComparer.Ordinal), checkpoint.Tensors.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, shape) in expectedNames)
        {
            var want = TinyGpt2Files.ExpectedEngineValues(_stored, name, out var wantShape);
            Assert.Equal(wantShape, shape);
            Assert.Equal(shape, checkpoint.Tensors[name].Shape);
            Assert.Equal(dtype, checkpoint.Tensors[name].DType);
            var got = checkpoint.Read(name);
            Assert.Equal(name, got.Name);
            Assert.Equal(shape, got.Shape);
            Assert.Equal(dtype, got.DType);
            AssertStoredAs(name, want, got.ToFloat32(), dtype);
        }
    }

    [Fact]
    public void Read_ConvOneDWeight_IsTheTransposeOfTheStoredMatrix()
    {
        // One element checked by hand against the file: Linear[o, i] = Conv1D[i, o] for c_attn's k third (o = 16 + 3).
        using var checkpoint = Gpt2Checkpoint.Open(Fixtures.TinyGpt2Hf, Gpt2ConfigReader.FromConfigJson(TinyGpt2Files.ConfigPath));
        var stored = _stored.Single(t => t.Name == "transformer.h.1.attn.c_attn.weight").ToFloat32();   // [16, 48]
        var linear = checkpoint.Read(Gpt2TensorNames.CAttnWeight(1));
        Assert.Equal(new Shape(48, 16), linear.Shape);
        Assert.Equal(stored[5 * 48 + 19], linear.ToFloat32()[19 * 16 + 5]);
        Assert.Equal("transformer.h.1.attn.c_attn.weight", checkpoint.Tensors[Gpt2TensorNames.CAttnWeight(1)].StoredName);
        Assert.False(checkpoint.IsSharded);
        Assert.Equal([Path.Combine(Fixtures.TinyGpt2Hf, "model.safetensors")], checkpoint.Files);
    }

    [Fact]
    public void Open_ShardedSafeTensors_ListsEveryShardInOrder()
    {
        var (directory, _) = Write("safetensors-sharded");
        using var checkpoint = Gpt2Checkpoint.Open(directory, Gpt2ConfigReader.FromConfigJson(Path.Combine(directory, "config.json")));
        Assert.True(checkpoint.IsSharded);
        Assert.Equal(["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors"],
            checkpoint.Files.Select(Path.GetFileName));
    }

    [Fact]
    public void Open_UntiedConfigWithLmHead_ExposesTheStoredHead()
    {
        string directory = TinyGpt2Files.NewModelDir(_dir, c => c["tie_word_embeddings"] = false);
        var wte = _stored.Single(t => t.Name == "transformer.wte.weight").ToFloat32();
        var head = wte.Select(v => -2f * v).ToArray();
        SafeTensorsWriter.Write(_dir.File("model.safetensors"), [.. _stored, HostTensor.FromFloat32("lm_head.weight", head, new Shape(50257, 16))]);
        var config = Gpt2ConfigReader.FromConfigJson(_dir.File("config.json"));
        using var checkpoint = Gpt2Checkpoint.Open(directory, config);
        Assert.Equal(Gpt2TensorNames.LmHead, Gpt2TensorNames.Output(config));
        Assert.Equal(head, checkpoint.Read(Gpt2TensorNames.LmHead).ToFloat32());
        Assert.Equal(wte, checkpoint.Read(Gpt2TensorNames.Wte).ToFloat32());
    }

    [Fact]
    public void Read_TiedHeadName_IsNotATensorAndNamesTheFile()
    {
        var config = Gpt2ConfigReader.FromConfigJson(TinyGpt2Files.ConfigPath);
        using var checkpoint = Gpt2Checkpoint.Open(Fixtures.TinyGpt2Hf, config);
        Assert.Equal(Gpt2TensorNames.Wte, Gpt2TensorNames.Output(config));
        var e = Assert.Throws<CheckpointFormatException>(() => checkpoint.Read(Gpt2TensorNames.LmHead));
        Assert.Equal($"{Path.Combine(Fixtures.TinyGpt2Hf, "model.safetensors")}: tensor 'lm_head.weight' not found", e.Message);
    }

    [Fact]
    public void Exists_FolderWithoutWeights_IsFalse()
    {
        Assert.True(Gpt2Checkpoint.Exists(Fixtures.TinyGpt2Hf));
        Assert.False(Gpt2Checkpoint.Exists(TinyGpt2Files.NewModelDir(_dir)));
    }

    /// <summary>Writes a variant into the temp folder (the fixture itself for "fixture"); returns it and its dtype.</summary>
    private (string Directory, DType DType) Write(string variant) => TinyGpt2Files.WriteVariant(_dir, _stored, variant);

    /// <summary>fp32: bit-identical. fp16/bf16: the fp32 value rounded to nearest even, computed here independently.</summary>
    private static void AssertStoredAs(string name, float[] fp32, float[] got, DType dtype)
    {
        Assert.Equal(fp32.Length, got.Length);
        for (int i = 0; i < fp32.Length; i++)
        {
            float want = dtype switch
            {
                DType.F32 => fp32[i],
                DType.F16 => (float)(Half)fp32[i],
                DType.BF16 => RoundToBFloat16(fp32[i]),
                _ => throw new ArgumentException(dtype.ToString()),
            };
            if (BitConverter.SingleToInt32Bits(want) != BitConverter.SingleToInt32Bits(got[i]))
                Assert.Fail($"{name}[{i}]: got {got[i]:R}, expected {want:R} (fp32 {fp32[i]:R}, stored {dtype})");
            // The rounding itself is within half an ulp: 2^-11 relative for fp16 (2^-25 absolute below its normals), 2^-8 for bf16.
            float bound = dtype switch { DType.F16 => MathF.Max(MathF.Abs(fp32[i]) * (1f / 2048), MathF.ScaleB(1f, -25)), DType.BF16 => MathF.Abs(fp32[i]) * (1f / 256), _ => 0f };
            Assert.True(MathF.Abs(got[i] - fp32[i]) <= bound, $"{name}[{i}]: {got[i]:R} is more than {bound} from {fp32[i]:R}");
        }
    }

    /// <summary>Round to nearest even on the upper 16 bits (the fixture holds no NaN).</summary>
    private static float RoundToBFloat16(float x)
    {
        uint bits = BitConverter.SingleToUInt32Bits(x);
        uint rounded = (bits + 0x7FFFu + ((bits >> 16) & 1u)) & 0xFFFF0000u;
        return BitConverter.UInt32BitsToSingle(rounded);
    }
}
