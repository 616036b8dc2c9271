using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Tests.Models.Gpt2;

/// <summary>
/// Writes what torch.save(model.state_dict(), "pytorch_model.bin") writes for a Hugging Face model (torch 2.x, pickle
/// protocol 2), closer to it than the product's PthWriter: the state dict is a collections.OrderedDict built by REDUCE
/// and filled by SETITEMS, carrying its _metadata by BUILD; strings and globals are memoized (BINPUT / BINGET);
/// tensors that share a storage (a tied lm_head.weight and wte) point at one storage record; bool and uint8 buffers
/// use BoolStorage / ByteStorage; the archive folder is "archive" with byteorder, version and .data/version records.
/// </summary>
internal sealed class TorchStateDictWriter
{
    private readonly MemoryStream _p = new();
    private readonly Dictionary<string, int> _memo = new(StringComparer.Ordinal);
    private int _next;

    /// <summary><paramref name="sharesStorageWith"/>: name → an earlier name whose storage this tensor is (tied weights).</summary>
    public static void Write(string path, IReadOnlyList<HostTensor> tensors, IReadOnlyDictionary<string, string>? sharesStorageWith = null)
    {
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        var storages = new List<HostTensor>();
        foreach (var t in tensors)
        {
            if (sharesStorageWith is not null && sharesStorageWith.TryGetValue(t.Name, out var owner))
                keys[t.Name] = keys[owner];
            else
            {
                keys[t.Name] = storages.Count.ToString(CultureInfo.InvariantCulture);
                storages.Add(t);
            }
        }
        var pickle = new TorchStateDictWriter().StateDict(tensors, keys);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        Add(zip, "archive/data.pkl", pickle);
        Add(zip, "archive/byteorder", "little"u8);
        for (int i = 0; i < storages.Count; i++)
            Add(zip, $"archive/data/{i}", storages[i].Bytes);
        Add(zip, "archive/version", "3\n"u8);
        Add(zip, "archive/.data/version", "3\n"u8);
    }

    private static void Add(ZipArchive zip, string name, ReadOnlySpan<byte> bytes)
    {
        using var s = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
        s.Write(bytes);
    }

    private byte[] StateDict(IReadOnlyList<HostTensor> tensors, Dictionary<string, string> keys)
    {
        _p.Write([0x80, 2]);                                           // PROTO 2
        Global("collections", "OrderedDict");
        Op(')', 'R'); Put();                                           // OrderedDict()
        _p.WriteByte((byte)'(');                                       // MARK: items
        foreach (var t in tensors)
        {
            Str(t.Name);
            Global("torch._utils", "_rebuild_tensor_v2");
            Op('(', '(');                                              // MARK args, MARK persistent id
            Str("storage");
            Global("torch", StorageType(t.DType));
            Str(keys[t.Name]);
            Str("cpu");
            Int(t.ElementCount);
            Op('t'); Put(); Op('Q');                                   // TUPLE, BINPERSID
            Int(0);                                                    // storage offset
            Tuple(t.Shape.Dims.ToArray().Select(d => (long)d).ToArray());
            Tuple(Strides(t.Shape));
            _p.WriteByte(0x89);                                        // NEWFALSE: requires_grad
            Global("collections", "OrderedDict");
            Op(')', 'R'); Put();                                       // backward hooks
            Op('t'); Put(); Op('R'); Put();                            // args TUPLE, REDUCE
        }
        Op('u');                                                       // SETITEMS
        Op('}'); Put();                                                // state: {'_metadata': OrderedDict([('', {'version': 1})])}
        Str("_metadata");
        Global("collections", "OrderedDict");
        Op(')', 'R'); Put();
        Str("");
        Op('}'); Put();
        Str("version");
        _p.Write([(byte)'K', 1]);                                      // BININT1 1
        Op('s', 's', 's');                                             // SETITEM ×3: version, '', _metadata
        Op('b', '.');                                                  // BUILD, STOP
        return _p.ToArray();
    }

    private static long[] Strides(Shape shape)
    {
        var strides = new long[shape.Rank];
        long stride = 1;
        for (int d = shape.Rank - 1; d >= 0; d--) { strides[d] = stride; stride *= shape[d]; }
        return strides;
    }

    private static string StorageType(DType dtype) => dtype switch
    {
        DType.F32 => "FloatStorage",
        DType.F16 => "HalfStorage",
        DType.BF16 => "BFloat16Storage",
        DType.Bool => "BoolStorage",
        DType.U8 => "ByteStorage",
        _ => throw new ArgumentException($"no torch storage for {dtype}"),
    };

    private void Op(params char[] ops)
    {
        foreach (var c in ops) _p.WriteByte((byte)c);
    }

    /// <summary>BINPUT / LONG_BINPUT under the next index, as pickle memoizes every object it writes. Returns the index.</summary>
    private int Put()
    {
        int index = _next++;
        if (index < 256)
            _p.Write([(byte)'q', (byte)index]);
        else
        {
            _p.WriteByte((byte)'r');
            WriteInt32(index);
        }
        return index;
    }

    private void Str(string s) => Memoized("s:" + s, () =>
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        _p.WriteByte((byte)'X');                                       // BINUNICODE
        WriteInt32(bytes.Length);
        _p.Write(bytes);
    });

    private void Global(string module, string name) => Memoized($"g:{module}.{name}", () => _p.Write(Encoding.ASCII.GetBytes($"c{module}\n{name}\n")));

    /// <summary>The first time: the value and a memo put; afterwards BINGET / LONG_BINGET of that entry (same string object).</summary>
    private void Memoized(string key, Action write)
    {
        if (_memo.TryGetValue(key, out int index))
        {
            if (index < 256)
                _p.Write([(byte)'h', (byte)index]);
            else
            {
                _p.WriteByte((byte)'j');
                WriteInt32(index);
            }
            return;
        }
        write();
        _memo[key] = Put();
    }

    private void WriteInt32(int value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, value);
        _p.Write(b);
    }

    private void Int(long value)
    {
        if (value is >= 0 and < 256) _p.Write([(byte)'K', (byte)value]);
        else if (value is >= 0 and < 65536) { _p.WriteByte((byte)'M'); _p.WriteByte((byte)value); _p.WriteByte((byte)(value >> 8)); }
        else
        {
            _p.WriteByte((byte)'J');
            WriteInt32(checked((int)value));
        }
    }

    /// <summary>Tuples as protocol 2 writes them: EMPTY_TUPLE, TUPLE1..3, or MARK … TUPLE.</summary>
    private void Tuple(long[] values)
    {
        if (values.Length == 0) { Op(')'); return; }
        if (values.Length > 3) Op('(');
        foreach (var v in values) Int(v);
        _p.WriteByte(values.Length switch { 1 => 0x85, 2 => 0x86, 3 => 0x87, _ => (byte)'t' });
        Put();
    }
}
