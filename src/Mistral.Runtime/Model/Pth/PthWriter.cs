using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Model.Pth;

/// <summary>
/// Writes a state dict as torch.save does (zip: {stem}/data.pkl, {stem}/data/{i}, {stem}/byteorder, {stem}/version),
/// using only the opcodes and globals <see cref="PickleInterpreter"/> accepts, so torch.load and mistral-cu both read it.
/// Float tensors only (the storages torch names BFloat16Storage, HalfStorage, FloatStorage). Written to a temporary
/// file in the destination folder and renamed when complete (<see cref="AtomicFile"/>).
/// </summary>
public static class PthWriter
{
    public static void Write(string path, IReadOnlyList<HostTensor> tensors) =>
        Write(path, tensors.Select(TensorSpec.Of).ToList(), i => tensors[i]);

    /// <summary>Streaming form: the pickle comes from <paramref name="specs"/>, then <paramref name="produce"/>(i) supplies storage i.</summary>
    public static void Write(string path, IReadOnlyList<TensorSpec> specs, Func<int, HostTensor> produce)
    {
        string stem = Path.GetFileNameWithoutExtension(Path.GetFullPath(path));
        var pickle = StateDictPickle(specs);
        AtomicFile.Write(path, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            AddEntry(zip, $"{stem}/data.pkl", pickle);
            AddEntry(zip, $"{stem}/byteorder", "little"u8.ToArray());
            for (int i = 0; i < specs.Count; i++)
                AddEntry(zip, $"{stem}/data/{i}", specs[i].Check(produce(i)).Bytes);
            AddEntry(zip, $"{stem}/version", "3\n"u8.ToArray());
        });
    }

    private static void AddEntry(ZipArchive zip, string name, ReadOnlySpan<byte> bytes)
    {
        using var s = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
        s.Write(bytes);
    }

    /// <summary>
    /// {name: _rebuild_tensor_v2(persistent(('storage', torch.XStorage, 'i', 'cpu', numel)), 0, size, stride, False, OrderedDict())}
    /// in pickle protocol 2, the byte sequence torch.save produces for a plain dict of contiguous tensors (minus memoization).
    /// </summary>
    private static byte[] StateDictPickle(IReadOnlyList<TensorSpec> tensors)
    {
        var p = new MemoryStream();
        p.Write([0x80, 2, (byte)'}', (byte)'(']); // PROTO 2, EMPTY_DICT, MARK
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = tensors[i];
            String(p, t.Name);
            Global(p, "torch._utils", "_rebuild_tensor_v2");
            p.WriteByte((byte)'(');                                  // MARK: args
            p.WriteByte((byte)'(');                                  // MARK: persistent id
            String(p, "storage");
            Global(p, "torch", StorageName(t));
            String(p, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            String(p, "cpu");
            Int(p, t.Shape.ElementCount);
            p.Write([(byte)'t', (byte)'Q']);                          // TUPLE, BINPERSID
            Int(p, 0);                                               // storage offset
            var dims = t.Shape.Dims.ToArray();
            var strides = new long[dims.Length];
            long stride = 1;
            for (int d = dims.Length - 1; d >= 0; d--) { strides[d] = stride; stride *= dims[d]; }
            Tuple(p, dims.Select(d => (long)d));
            Tuple(p, strides);
            p.WriteByte(0x89);                                       // NEWFALSE: requires_grad
            Global(p, "collections", "OrderedDict");
            p.Write([(byte)')', (byte)'R']);                          // EMPTY_TUPLE, REDUCE: backward hooks
            p.Write([(byte)'t', (byte)'R']);                          // TUPLE, REDUCE: the tensor
        }
        p.Write([(byte)'u', (byte)'.']);                              // SETITEMS, STOP
        return p.ToArray();
    }

    private static string StorageName(TensorSpec t) => t.DType switch
    {
        DType.BF16 => "BFloat16Storage",
        DType.F16 => "HalfStorage",
        DType.F32 => "FloatStorage",
        _ => throw new ArgumentException($"tensor '{t.Name}': {t.DType} cannot be written to a .pth state dict (float dtypes only)"),
    };

    private static void String(Stream p, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(len, bytes.Length);
        p.WriteByte((byte)'X');                                      // BINUNICODE
        p.Write(len);
        p.Write(bytes);
    }

    private static void Global(Stream p, string module, string name) =>
        p.Write(Encoding.ASCII.GetBytes($"c{module}\n{name}\n"));

    private static void Int(Stream p, long value)
    {
        Span<byte> buffer = stackalloc byte[8];
        if (value is >= int.MinValue and <= int.MaxValue)
        {
            BinaryPrimitives.WriteInt32LittleEndian(buffer, (int)value);
            p.WriteByte((byte)'J');                                  // BININT
            p.Write(buffer[..4]);
        }
        else
        {
            BinaryPrimitives.WriteInt64LittleEndian(buffer, value);
            p.Write([0x8a, 8]);                                      // LONG1, 8 bytes
            p.Write(buffer);
        }
    }

    private static void Tuple(Stream p, IEnumerable<long> values)
    {
        p.WriteByte((byte)'(');
        foreach (var v in values) Int(p, v);
        p.WriteByte((byte)'t');
    }
}
