using Xunit;
using System.Text;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Testing;

namespace Mistral.Runtime.Tests.Model;

public sealed class SafeTensorsFileTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Reads_fixture_tensors_with_values_checked_by_an_independent_reader()
    {
        // Expected values were read from the files with Python's struct module, not with this code.
        using var file = SafeTensorsFile.Open(Path.Combine(Fixtures.TinyNative, "consolidated.safetensors"));
        Assert.Equal(21, file.Count);
        Assert.Equal("pt", file.Metadata["format"]);
        var embeddings = file["tok_embeddings.weight"];
        Assert.Equal(DType.BF16, embeddings.DType);
        Assert.Equal(new Shape(32000, 64), embeddings.Shape);
        Assert.Equal([-0.11181640625f, -0.49609375f, 0.1630859375f, -0.8828125f], embeddings.ToFloat32()[..4]);

        var reference = SafeTensorsFile.ReadAll(Path.Combine(Fixtures.TinyReference, "forward.safetensors"));
        Assert.Equal([1L, 22291, 15429, 13993, 896, 24233, 0, 27288, 31486, 21465, 28408, 4601], reference["prompt1.tokens"].ToInt64());
        Assert.Equal(22291, reference["prompt1.tokens"].ToInt32()[1]);
        var logits = reference["prompt0.logits"];
        Assert.Equal(new Shape(5, 32000), logits.Shape);
        Assert.Equal([-0.9332987070083618f, -1.1165533065795898f, -0.645301342010498f, 0.1052052229642868f], logits.ToFloat32()[..4]);
    }

    [Fact]
    public void Round_trips_every_dtype_and_the_metadata()
    {
        // 1 + 2^-8 is a tie between bf16 neighbours 1 and 1 + 2^-7: round-to-even gives 1. 1 + 3·2^-8 rounds up to 1 + 2^-6.
        float[] floats = [1f, -2.5f, 1.00390625f, 1.01171875f, float.PositiveInfinity, 65504f];
        var path = _dir.File("all.safetensors");
        SafeTensorsWriter.Write(path,
        [
            HostTensor.FromFloat32("f32", floats, new Shape(2, 3), DType.F32),
            HostTensor.FromFloat32("bf16", floats, new Shape(3, 2), DType.BF16),
            HostTensor.FromFloat32("f16", floats, new Shape(6), DType.F16),
            HostTensor.FromInt32("i32", [7, -1, int.MaxValue], new Shape(3)),
            HostTensor.FromInt64("i64", [long.MinValue, 5], new Shape(1, 2)),
            HostTensor.FromFloat32("empty", [], new Shape(0, 4), DType.BF16),
            HostTensor.FromFloat32("scalar", [3f], new Shape(), DType.F32),
        ], new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode" });

        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp"));
        Assert.Equal(0, (new FileInfo(path).Length - 8 - BitConverter.ToInt64(File.ReadAllBytes(path), 0)) % 2);
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(["f32", "bf16", "f16", "i32", "i64", "empty", "scalar"], file.Names);
        Assert.Equal("ünïcode", file.Metadata["note"]);
        Assert.Equal(floats, file["f32"].ToFloat32());
        Assert.Equal(new Shape(3, 2), file["bf16"].Shape);
        Assert.Equal([1f, -2.5f, 1f, 1.015625f, float.PositiveInfinity, 65536f], file["bf16"].ToFloat32());
        Assert.Equal([0x80, 0x3F], file["bf16"].Bytes[..2].ToArray());
        Assert.Equal([1f, -2.5f, 1.00390625f, 1.01171875f, float.PositiveInfinity, 65504f], file["f16"].ToFloat32());
        Assert.Equal([7, -1, int.MaxValue], file["i32"].ToInt32());
        Assert.Equal([long.MinValue, 5L], file["i64"].ToInt64());
        Assert.Equal(0, file["empty"].ElementCount);
        Assert.Equal([3f], file["scalar"].ToFloat32());
    }

    [Fact]
    public void Tensor_views_refuse_to_be_read_after_the_file_is_closed()
    {
        var path = _dir.File("small.safetensors");
        SafeTensorsWriter.Write(path, [HostTensor.FromFloat32("x", [1f, 2f], new Shape(2))]);
        HostTensor view;
        using (var file = SafeTensorsFile.Open(path))
            view = file["x"];
        Assert.Throws<ObjectDisposedException>(() => view.ToFloat32());
    }

    [Fact]
    public void Missing_tensor_names_the_tensor_and_the_file()
    {
        var path = _dir.File("small.safetensors");
        SafeTensorsWriter.Write(path, [HostTensor.FromFloat32("x", [1f], new Shape(1))]);
        using var file = SafeTensorsFile.Open(path);
        var e = Assert.Throws<CheckpointFormatException>(() => file["y"]);
        Assert.Contains(path, e.Message);
        Assert.Contains("'y' not found", e.Message);
    }

    [Fact]
    public void Overwriting_keeps_no_temporary_files_and_replaces_the_content()
    {
        var path = _dir.File("w.safetensors");
        SafeTensorsWriter.Write(path, [HostTensor.FromFloat32("a", [1f], new Shape(1))]);
        SafeTensorsWriter.Write(path, [HostTensor.FromFloat32("b", [2f, 3f], new Shape(2))]);
        Assert.Equal(["w.safetensors"], Directory.GetFiles(_dir.Path).Select(Path.GetFileName));
        Assert.Equal([2f, 3f], SafeTensorsFile.ReadAll(path)["b"].ToFloat32());
    }

    [Fact]
    public void Writer_refuses_repeated_names_and_leaves_nothing_behind()
    {
        var path = _dir.File("dup.safetensors");
        Assert.Throws<ArgumentException>(() => SafeTensorsWriter.Write(path,
            [HostTensor.FromFloat32("a", [1f], new Shape(1)), HostTensor.FromFloat32("a", [2f], new Shape(1))]));
        Assert.Empty(Directory.GetFiles(_dir.Path));
    }

    // ---- hostile files: each must fail at Open with one message naming the file and the problem ----

    [Fact]
    public void Empty_and_tiny_files_are_rejected() =>
        AssertRejected(new byte[5], "too short for the 8-byte");

    [Fact]
    public void Truncated_data_area_is_rejected()
    {
        var bytes = Build("""{"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", new byte[16]);
        AssertRejected(bytes[..^4], "run past the data area");
    }

    [Fact]
    public void Header_length_past_end_of_file_is_rejected()
    {
        var bytes = Build("""{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", new byte[4]);
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), (ulong)bytes.Length);
        AssertRejected(bytes, "runs past the end of the file");
    }

    [Fact]
    public void Huge_header_length_is_rejected_before_any_allocation()
    {
        var bytes = Build("{}", []);
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), ulong.MaxValue - 3);
        AssertRejected(bytes, "exceeds the");
    }

    [Theory]
    [InlineData("""{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}""", "not valid JSON")]
    [InlineData("""[1, 2]""", "must be a JSON object")]
    [InlineData("""{"x":{"dtype":"F32","shape":[1]}}""", "'data_offsets' must be an array")]
    [InlineData("""{"x":{"shape":[1],"data_offsets":[0,4]}}""", "missing or non-string 'dtype'")]
    [InlineData("""{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}""", "unexpected header field 'extra'")]
    [InlineData("""{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", "names 'x' twice")]
    [InlineData("""{"__metadata__":{"a":1}}""", "must be a string")]
    public void Malformed_headers_are_rejected(string header, string expected) =>
        AssertRejected(Build(header, new byte[8]), expected);

    [Fact]
    public void Invalid_utf8_header_is_rejected()
    {
        var bytes = Build("{\"x\":1}", []);
        bytes[10] = 0xFF;
        AssertRejected(bytes, "not valid JSON");
    }

    [Fact]
    public void Offsets_out_of_range_are_rejected() =>
        AssertRejected(Build("""{"x":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", new byte[8]), "run past the data area (8 bytes)");

    [Fact]
    public void Reversed_offsets_are_rejected() =>
        AssertRejected(Build("""{"x":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}""", new byte[8]), "end before they begin");

    [Fact]
    public void Overlapping_tensors_are_rejected() =>
        AssertRejected(Build("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", new byte[12]),
            "'a' [0, 8] and 'b' [4, 12] overlap");

    [Fact]
    public void Wrong_byte_length_is_rejected() =>
        AssertRejected(Build("""{"x":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,8]}}""", new byte[8]), "BF16[2, 3] needs 12 bytes but data_offsets [0, 8] hold 8");

    [Theory]
    [InlineData("F64")]
    [InlineData("F8_E4M3")]
    [InlineData("I8")]
    public void Unsupported_dtype_is_named(string dtype) =>
        AssertRejected(Build("{\"x\":{\"dtype\":\"" + dtype + "\",\"shape\":[1],\"data_offsets\":[0,8]}}", new byte[8]), $"dtype '{dtype}'");

    [Fact]
    public void Bool_and_u8_buffers_are_read_under_their_safetensors_names()
    {
        // GPT-2 checkpoints carry their causal mask (attn.bias) as BOOL or U8; the loader must read past it.
        var bytes = Build("""{"m":{"dtype":"BOOL","shape":[2,2],"data_offsets":[0,4]},"u":{"dtype":"U8","shape":[3],"data_offsets":[4,7]}}""", [1, 0, 1, 1, 7, 8, 9]);
        var path = _dir.File("buffers.safetensors");
        File.WriteAllBytes(path, bytes);
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal((DType.Bool, new Shape(2, 2)), file.Describe("m"));
        Assert.Equal(new byte[] { 7, 8, 9 }, file["u"].Bytes.ToArray());
        var copy = _dir.File("copy.safetensors");
        SafeTensorsWriter.Write(copy, file.Tensors);
        using var back = SafeTensorsFile.Open(copy);
        Assert.Equal((DType.Bool, new Shape(2, 2)), back.Describe("m"));
        Assert.Equal(new byte[] { 1, 0, 1, 1 }, back["m"].Bytes.ToArray());
        Assert.Equal((DType.U8, new Shape(3)), back.Describe("u"));
    }

    [Fact]
    public void Negative_dimension_is_rejected() =>
        AssertRejected(Build("""{"x":{"dtype":"F32","shape":[-1,2],"data_offsets":[0,8]}}""", new byte[8]), "negative dimension -1");

    [Fact]
    public void Absurd_shape_is_rejected() =>
        AssertRejected(Build("""{"x":{"dtype":"F32","shape":[2147483647,2147483647,2147483647],"data_offsets":[0,8]}}""", new byte[8]), "absurd");

    [Fact]
    public void Dimension_beyond_int_is_rejected() =>
        AssertRejected(Build("""{"x":{"dtype":"F32","shape":[4294967296],"data_offsets":[0,8]}}""", new byte[8]), "absurd");

    [Fact]
    public void Missing_file_is_named() =>
        AssertRejectedPath(_dir.File("nope.safetensors"), "file not found");

    private static byte[] Build(string header, byte[] data)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + data.Length];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), (ulong)json.Length);
        json.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + json.Length);
        return bytes;
    }

    private void AssertRejected(byte[] bytes, string expected)
    {
        var path = _dir.File($"{Guid.NewGuid():N}.safetensors");
        File.WriteAllBytes(path, bytes);
        AssertRejectedPath(path, expected);
    }

    private static void AssertRejectedPath(string path, string expected)
    {
        var e = Assert.Throws<CheckpointFormatException>(() => SafeTensorsFile.Open(path).Dispose());
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(expected, e.Message);
    }
}
