using System.IO.Compression;
using System.Text;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Model.Pth;
using Mistral.Testing;
using Xunit;
using Mistral.Runtime.Models;
using Mistral.Runtime.Models.Mistral;

namespace Mistral.Runtime.Tests.Model;

public sealed class PthCheckpointTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Fixture_pth_lists_every_tensor_with_dtype_and_shape()
    {
        using var pth = PthCheckpoint.Open(Path.Combine(Fixtures.TinyNativePth, "consolidated.00.pth"));
        Assert.Equal(21, pth.Tensors.Count);
        var wq = pth.Tensors["layers.1.attention.wq.weight"];
        Assert.Equal(DType.BF16, wq.DType);
        Assert.Equal(new Shape(64, 64), wq.Shape);
        Assert.Equal(new Shape(64), pth.Tensors["norm.weight"].Shape);
    }

    [Fact]
    public void Written_pth_reads_back_identically_in_every_float_dtype()
    {
        var tensors = new[]
        {
            HostTensor.FromFloat32("a.weight", [1f, 2f, 3f, 4f, 5f, 6f], new Shape(2, 3), DType.BF16),
            HostTensor.FromFloat32("b", [0.5f, -0.25f], new Shape(2), DType.F16),
            HostTensor.FromFloat32("c", [1e-3f, 7f, 9f, 11f], new Shape(1, 2, 2), DType.F32),
        };
        var path = _dir.File("consolidated.00.pth");
        PthWriter.Write(path, tensors);
        Assert.Equal(["consolidated.00.pth"], Directory.GetFiles(_dir.Path).Select(Path.GetFileName));
        using var pth = PthCheckpoint.Open(path);
        Assert.Equal(["a.weight", "b", "c"], pth.Tensors.Keys);
        foreach (var t in tensors)
        {
            var back = pth.Read(t.Name);
            Assert.Equal(t.DType, back.DType);
            Assert.Equal(t.Shape, back.Shape);
            Assert.Equal(t.Bytes.ToArray(), back.Bytes.ToArray());
        }
    }

    [Fact]
    public void Fixture_model_written_as_pth_loads_like_the_original()
    {
        using var native = ModelDirectory.Open(Fixtures.TinyNative);
        var tensors = native.Schema.Expected.Select(e => native.Read(e.Name)).ToList();
        PthWriter.Write(_dir.File("consolidated.00.pth"), tensors);
        File.Copy(Path.Combine(Fixtures.TinyNative, "params.json"), _dir.File("params.json"));
        using var copy = ModelDirectory.Open(_dir.Path);
        Assert.Equal(ModelLayout.NativePth, copy.Layout);
        ModelDirectoryTests.AssertSameTensors(native, copy);
    }

    [Fact]
    public void Bool_and_byte_storages_are_read_as_buffers()
    {
        // torch.save of an older GPT-2 state dict: the causal mask attn.bias is a BoolStorage (a ByteStorage before that).
        var pickle = Concat([0x80, 2, (byte)'}', (byte)'('],
            Entry("mask", "BoolStorage", "0", size: [2, 2], stride: [2, 1], offset: 0, numel: 4),
            Entry("u8", "ByteStorage", "1", size: [3], stride: [1], offset: 0, numel: 3),
            [(byte)'u', (byte)'.']);
        var path = WritePth(pickle, [1, 0, 1, 1], [7, 8, 9]);
        using var pth = PthCheckpoint.Open(path);
        Assert.Equal(DType.Bool, pth.Tensors["mask"].DType);
        Assert.Equal(new byte[] { 1, 0, 1, 1 }, pth.Read("mask").Bytes.ToArray());
        Assert.Equal(DType.U8, pth.Tensors["u8"].DType);
        Assert.Equal(new byte[] { 7, 8, 9 }, pth.Read("u8").Bytes.ToArray());
    }

    [Theory]
    [InlineData("os", "system")]
    [InlineData("posix", "system")]
    [InlineData("builtins", "eval")]
    [InlineData("torch.storage", "_load_from_bytes")]
    [InlineData("torch", "IntStorage")]
    public void Globals_outside_the_whitelist_are_refused_by_name(string module, string name)
    {
        // The classic exploit: GLOBAL os.system, a string argument, REDUCE. Refused at the GLOBAL, before any REDUCE.
        var pickle = Concat([0x80, 2], Ascii($"c{module}\n{name}\n"), [(byte)'X', 4, 0, 0, 0], Ascii("echo"), [0x85, (byte)'R', (byte)'.']);
        var e = AssertRejected(pickle);
        Assert.Contains($"global '{module}.{name}', which is not allowed", e.Message);
    }

    [Theory]
    [InlineData(0xff, "0xff (unknown)")]
    [InlineData((byte)'i', "0x69 (INST)")]
    [InlineData(0x81, "0x81 (NEWOBJ)")]
    [InlineData((byte)']', "0x5d (EMPTY_LIST)")]
    public void Unknown_or_unneeded_opcodes_are_refused_by_name(byte opcode, string expected)
    {
        var e = AssertRejected([0x80, 2, (byte)'}', opcode, (byte)'.']);
        Assert.Contains($"pickle opcode {expected} is not allowed", e.Message);
        Assert.Contains("(pickle byte 3)", e.Message);
    }

    [Fact]
    public void Pickle_without_stop_is_truncated() =>
        Assert.Contains("ends without STOP (truncated)", AssertRejected([0x80, 2, (byte)'}']).Message);

    [Fact]
    public void String_longer_than_the_pickle_is_truncated() =>
        Assert.Contains("more bytes but ends (truncated)", AssertRejected([0x80, 2, (byte)'X', 0xff, 0xff, 0xff, 0x7f, (byte)'a']).Message);

    [Fact]
    public void Memo_read_before_write_is_refused() =>
        Assert.Contains("memo entry 7 read before it was written", AssertRejected([0x80, 2, (byte)'h', 7, (byte)'.']).Message);

    [Fact]
    public void Pickle_that_is_not_a_dict_is_refused() =>
        Assert.Contains("not a state dict", AssertRejected([0x80, 2, (byte)'N', (byte)'.']).Message);

    [Fact]
    public void Truncated_zip_is_a_clear_error()
    {
        var bytes = File.ReadAllBytes(Path.Combine(Fixtures.TinyNativePth, "consolidated.00.pth"));
        var path = _dir.File("consolidated.00.pth");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<CheckpointFormatException>(() => PthCheckpoint.Open(path).Dispose());
        Assert.StartsWith($"{path}: not a readable torch.save zip archive (truncated or corrupt)", e.Message);
    }

    [Fact]
    public void Legacy_torch_save_stream_is_named()
    {
        var path = _dir.File("old.pth");
        File.WriteAllBytes(path, [0x80, 2, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, (byte)'.']); // torch's legacy magic number
        var e = Assert.Throws<CheckpointFormatException>(() => PthCheckpoint.Open(path).Dispose());
        Assert.Contains("legacy (before torch 1.6) torch.save format", e.Message);
    }

    [Fact]
    public void Non_contiguous_tensor_is_refused()
    {
        // Same layout PthWriter produces, but the stride (1, 2) of a transposed [2, 3] view.
        var pickle = StateDict(size: [2, 3], stride: [1, 2], offset: 0, numel: 6);
        var e = AssertRejected(pickle, storageBytes: 12);
        Assert.Contains("tensor 'w': size [2, 3] with stride [1, 2] is not contiguous", e.Message);
    }

    [Fact]
    public void Storage_offset_is_respected()
    {
        // A [2] tensor at element offset 3 of a 6-element bf16 storage holding 0..5.
        var storage = HostTensor.FromFloat32("s", [0f, 1f, 2f, 3f, 4f, 5f], new Shape(6), DType.BF16).Bytes.ToArray();
        var path = WritePth(StateDict(size: [2], stride: [1], offset: 3, numel: 6), storage);
        using var pth = PthCheckpoint.Open(path);
        Assert.Equal([3f, 4f], pth.Read("w").ToFloat32());
    }

    [Fact]
    public void Tensor_past_its_storage_is_refused()
    {
        var e = AssertRejected(StateDict(size: [4], stride: [1], offset: 3, numel: 6), storageBytes: 12);
        Assert.Contains("4 elements at offset 3 run past its storage of 6", e.Message);
    }

    [Fact]
    public void Storage_of_the_wrong_size_is_refused()
    {
        var e = AssertRejected(StateDict(size: [6], stride: [1], offset: 0, numel: 6), storageBytes: 10);
        Assert.Contains("storage 'archive/data/0' holds 10 bytes, the pickle says 6 × 2", e.Message);
    }

    /// <summary>{'w': _rebuild_tensor_v2(('storage', torch.BFloat16Storage, '0', 'cpu', numel), offset, size, stride, False, OrderedDict())}</summary>
    private static byte[] StateDict(int[] size, int[] stride, int offset, int numel) =>
        Concat([0x80, 2, (byte)'}', (byte)'('], Entry("w", "BFloat16Storage", "0", size, stride, offset, numel), [(byte)'u', (byte)'.']);

    /// <summary>name, _rebuild_tensor_v2(('storage', torch.{storage}, key, 'cpu', numel), offset, size, stride, False, OrderedDict())</summary>
    private static byte[] Entry(string name, string storage, string key, int[] size, int[] stride, int offset, int numel) => Concat(
        Str(name), Ascii("ctorch._utils\n_rebuild_tensor_v2\n"),
        [(byte)'(', (byte)'('], Str("storage"), Ascii($"ctorch\n{storage}\n"), Str(key), Str("cpu"), [(byte)'K', (byte)numel, (byte)'t', (byte)'Q'],
        [(byte)'K', (byte)offset], Tuple(size), Tuple(stride), [0x89], Ascii("ccollections\nOrderedDict\n"), [(byte)')', (byte)'R'],
        [(byte)'t', (byte)'R']);

    private static byte[] Tuple(int[] values) => Concat([(byte)'('], [.. values.SelectMany(v => new byte[] { (byte)'K', (byte)v })], [(byte)'t']);

    private static byte[] Str(string s) => Concat([(byte)'X', (byte)s.Length, 0, 0, 0], Ascii(s));

    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private string WritePth(byte[] pickle, params byte[][] storages)
    {
        var path = _dir.File($"{Guid.NewGuid():N}.pth");
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using (var s = zip.CreateEntry("archive/data.pkl").Open()) s.Write(pickle);
        for (int i = 0; i < storages.Length; i++)
            using (var s = zip.CreateEntry($"archive/data/{i}").Open()) s.Write(storages[i]);
        return path;
    }

    private CheckpointFormatException AssertRejected(byte[] pickle, int storageBytes = 0)
    {
        var path = WritePth(pickle, new byte[storageBytes]);
        var e = Assert.Throws<CheckpointFormatException>(() => PthCheckpoint.Open(path).Dispose());
        Assert.StartsWith(path, e.Message);
        return e;
    }
}
