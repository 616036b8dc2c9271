using System.Buffers.Binary;
using System.Text;
using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Model.Pth;

/// <summary>
/// Interprets the pickle of a torch.save state dict without executing anything. It understands exactly the opcodes such
/// a pickle uses and only the globals collections.OrderedDict, torch._utils._rebuild_tensor_v2 and
/// torch.{BFloat16,Half,Float,Bool,Byte}Storage (bool/uint8: the causal-mask buffers of older GPT-2 Trainer
/// checkpoints, read past rather than refused); any other opcode or global is refused with an error naming it (a pickle can run
/// arbitrary code through globals such as os.system or torch.storage._load_from_bytes).
/// </summary>
internal sealed class PickleInterpreter
{
    private static readonly Dictionary<string, DType> StorageTypes = new(StringComparer.Ordinal)
    {
        ["BFloat16Storage"] = DType.BF16,
        ["HalfStorage"] = DType.F16,
        ["FloatStorage"] = DType.F32,
        ["BoolStorage"] = DType.Bool,
        ["ByteStorage"] = DType.U8,
    };

    private static readonly HashSet<string> AllowedGlobals =
    [
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor_v2",
        .. StorageTypes.Keys.Select(k => "torch." + k),
    ];

    private static readonly object Mark = new();

    private readonly string _path;
    private readonly byte[] _data;
    private readonly List<object?> _stack = [];
    private readonly Stack<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = [];
    private int _pos;

    private PickleInterpreter(string path, byte[] data)
    {
        _path = path;
        _data = data;
    }

    /// <summary>Runs the pickle to its STOP and returns the top value. <paramref name="path"/> names the pickle in errors.</summary>
    public static object? Run(string path, byte[] data) => new PickleInterpreter(path, data).Run();

    private object? Run()
    {
        while (_pos < _data.Length)
        {
            int at = _pos;
            byte op = _data[_pos++];
            switch (op)
            {
                case 0x80: // PROTO
                    if (ReadByte() > 5) throw Fail(at, "unsupported pickle protocol");
                    break;
                case 0x95: // FRAME: a length hint for buffered readers
                    Read(8);
                    break;
                case (byte)'}': Push(new PickleDict()); break;                         // EMPTY_DICT
                case (byte)'d': Push(DictFrom(PopMark(at), at)); break;                  // DICT
                case (byte)'(': _marks.Push(_stack.Count); Push(Mark); break;            // MARK
                case (byte)'X': Push(ReadString(BinaryPrimitives.ReadUInt32LittleEndian(Read(4)), at)); break;   // BINUNICODE
                case 0x8c: Push(ReadString(ReadByte(), at)); break;                      // SHORT_BINUNICODE
                case 0x8d: Push(ReadString(BinaryPrimitives.ReadUInt64LittleEndian(Read(8)), at)); break;        // BINUNICODE8
                case (byte)'q': _memo[ReadByte()] = Peek(at); break;                     // BINPUT
                case (byte)'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(Read(4))] = Peek(at); break;       // LONG_BINPUT
                case 0x94: _memo[_memo.Count] = Peek(at); break;                         // MEMOIZE
                case (byte)'h': Push(MemoGet(ReadByte(), at)); break;                    // BINGET
                case (byte)'j': Push(MemoGet(BinaryPrimitives.ReadUInt32LittleEndian(Read(4)), at)); break;      // LONG_BINGET
                case (byte)'c': Push(Global(ReadLine(at), ReadLine(at), at)); break;     // GLOBAL
                case 0x93:                                                               // STACK_GLOBAL
                {
                    var name = Pop(at) as string ?? throw Fail(at, "STACK_GLOBAL needs two strings");
                    var module = Pop(at) as string ?? throw Fail(at, "STACK_GLOBAL needs two strings");
                    Push(Global(module, name, at));
                    break;
                }
                case (byte)'Q': Push(PersistentStorage(Pop(at), at)); break;            // BINPERSID
                case (byte)')': Push(Array.Empty<object?>()); break;                    // EMPTY_TUPLE
                case (byte)'t': Push(PopMark(at).ToArray()); break;                     // TUPLE
                case 0x85: Push(PopN(1, at)); break;                                    // TUPLE1
                case 0x86: Push(PopN(2, at)); break;                                    // TUPLE2
                case 0x87: Push(PopN(3, at)); break;                                    // TUPLE3
                case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Read(4))); break;             // BININT
                case (byte)'K': Push((long)ReadByte()); break;                          // BININT1
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Read(2))); break;            // BININT2
                case 0x8a: Push(ReadLong1(at)); break;                                  // LONG1
                case 0x88: Push(true); break;                                           // NEWTRUE
                case 0x89: Push(false); break;                                          // NEWFALSE
                case (byte)'N': Push(null); break;                                      // NONE
                case (byte)'R':                                                         // REDUCE
                {
                    var args = Pop(at) as object?[] ?? throw Fail(at, "REDUCE needs an argument tuple");
                    Push(Reduce(Pop(at), args, at));
                    break;
                }
                case (byte)'s':                                                         // SETITEM
                {
                    var value = Pop(at);
                    var key = Pop(at);
                    TargetDict(at).Items.Add(new(key, value));
                    break;
                }
                case (byte)'u':                                                         // SETITEMS
                {
                    var items = PopMark(at);
                    if (items.Count % 2 != 0) throw Fail(at, "SETITEMS with an odd number of items");
                    var dict = TargetDict(at);
                    for (int i = 0; i < items.Count; i += 2) dict.Items.Add(new(items[i], items[i + 1]));
                    break;
                }
                case (byte)'b':                                                         // BUILD
                    // OrderedDict.__reduce__ may attach instance state (state_dict's _metadata): data, not code; ignored.
                    Pop(at);
                    if (Peek(at) is not PickleDict) throw Fail(at, "BUILD is only allowed on an OrderedDict");
                    break;
                case (byte)'.':                                                         // STOP
                    return Pop(at);
                default:
                    throw Fail(at, $"pickle opcode {OpcodeName(op)} is not allowed in a state dict; refusing to load");
            }
        }
        throw Fail(_pos, "pickle ends without STOP (truncated)");
    }

    private object Global(string module, string name, int at)
    {
        string full = $"{module}.{name}";
        if (!AllowedGlobals.Contains(full))
            throw Fail(at, $"pickle refers to global '{full}', which is not allowed (only {string.Join(", ", AllowedGlobals.Order())}); refusing to load: a pickle can run code");
        return new PickleGlobal(module, name);
    }

    private object Reduce(object? callable, object?[] args, int at)
    {
        return callable switch
        {
            PickleGlobal { Module: "collections", Name: "OrderedDict" } when args.Length == 0 => new PickleDict(),
            PickleGlobal { Module: "torch._utils", Name: "_rebuild_tensor_v2" } => RebuildTensor(args, at),
            _ => throw Fail(at, $"REDUCE of {callable ?? "None"} with {args.Length} arguments is not allowed"),
        };
    }

    /// <summary>_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]).</summary>
    private PickleTensor RebuildTensor(object?[] args, int at)
    {
        if (args.Length is < 6 or > 7 || args[0] is not PickleStorage storage || args[1] is not long offset
            || args[2] is not object?[] size || args[3] is not object?[] stride || args[4] is not bool)
            throw Fail(at, "_rebuild_tensor_v2 arguments are not (storage, offset, size, stride, requires_grad, hooks)");
        if (args[5] is PickleDict { Items.Count: > 0 })
            throw Fail(at, "_rebuild_tensor_v2 with backward hooks is not allowed");
        return new PickleTensor(storage, offset, Longs(size, "size", at), Longs(stride, "stride", at));
    }

    private long[] Longs(object?[] tuple, string what, int at) =>
        tuple.Select(v => v as long? ?? throw Fail(at, $"tensor {what} holds a non-integer")).ToArray();

    /// <summary>The persistent id torch.save writes for a storage: ('storage', torch.XStorage, key, location, numel).</summary>
    private PickleStorage PersistentStorage(object? pid, int at)
    {
        if (pid is not object?[] { Length: 5 } t || t[0] is not "storage" || t[1] is not PickleGlobal type
            || t[2] is not string key || t[3] is not string location || t[4] is not long numel || numel < 0)
            throw Fail(at, "persistent id is not ('storage', type, key, location, numel)");
        if (type.Module != "torch" || !StorageTypes.TryGetValue(type.Name, out var dtype))
            throw Fail(at, $"storage type {type} is not one of {string.Join(", ", StorageTypes.Keys)}");
        return new PickleStorage(dtype, key, location, numel);
    }

    private PickleDict DictFrom(List<object?> items, int at)
    {
        if (items.Count % 2 != 0) throw Fail(at, "DICT with an odd number of items");
        var dict = new PickleDict();
        for (int i = 0; i < items.Count; i += 2) dict.Items.Add(new(items[i], items[i + 1]));
        return dict;
    }

    private PickleDict TargetDict(int at) => Peek(at) as PickleDict ?? throw Fail(at, "SETITEM(S) target is not a dict");

    private object? MemoGet(long index, int at) =>
        _memo.TryGetValue(index, out var value) ? value : throw Fail(at, $"memo entry {index} read before it was written");

    private void Push(object? value) => _stack.Add(value);

    private object? Peek(int at)
    {
        if (_stack.Count == 0 || ReferenceEquals(_stack[^1], Mark))
            throw Fail(at, "stack underflow (a value was expected)");
        return _stack[^1];
    }

    private object? Pop(int at)
    {
        var value = Peek(at);
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private object?[] PopN(int n, int at)
    {
        var items = new object?[n];
        for (int i = n - 1; i >= 0; i--) items[i] = Pop(at);
        return items;
    }

    private List<object?> PopMark(int at)
    {
        if (_marks.Count == 0) throw Fail(at, "no MARK to pop to");
        int start = _marks.Pop();
        var items = _stack.GetRange(start + 1, _stack.Count - start - 1);
        _stack.RemoveRange(start, _stack.Count - start);
        return items;
    }

    private byte ReadByte() => Read(1)[0];

    private ReadOnlySpan<byte> Read(long count)
    {
        if (count > _data.Length - _pos)
            throw Fail(_pos, $"pickle needs {count} more bytes but ends (truncated)");
        var span = _data.AsSpan(_pos, (int)count);
        _pos += (int)count;
        return span;
    }

    private string ReadString(ulong length, int at)
    {
        try { return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(Read((long)Math.Min(length, int.MaxValue + 1UL))); }
        catch (DecoderFallbackException) { throw Fail(at, "string is not valid UTF-8"); }
    }

    private string ReadLine(int at)
    {
        int end = Array.IndexOf(_data, (byte)'\n', _pos);
        if (end < 0 || end - _pos > 256) throw Fail(at, "GLOBAL name is not a short newline-terminated line");
        string line = Encoding.ASCII.GetString(_data, _pos, end - _pos);
        _pos = end + 1;
        return line;
    }

    private long ReadLong1(int at)
    {
        int n = ReadByte();
        if (n > 8) throw Fail(at, $"LONG1 of {n} bytes does not fit in 64 bits");
        var bytes = Read(n);
        long value = 0;
        for (int i = n - 1; i >= 0; i--) value = (value << 8) | bytes[i];
        if (n is > 0 and < 8 && (bytes[n - 1] & 0x80) != 0) value -= 1L << (8 * n); // two's complement sign
        return value;
    }

    private CheckpointFormatException Fail(int offset, string problem) => new(_path, $"{problem} (pickle byte {offset})");

    private static string OpcodeName(byte op)
    {
        string name = op switch
        {
            (byte)'i' => "INST", (byte)'o' => "OBJ", 0x81 => "NEWOBJ", 0x92 => "NEWOBJ_EX", (byte)'P' => "PERSID",
            (byte)'S' => "STRING", (byte)'U' => "SHORT_BINSTRING", (byte)'T' => "BINSTRING", (byte)'V' => "UNICODE",
            (byte)']' => "EMPTY_LIST", (byte)'l' => "LIST", (byte)'a' => "APPEND", (byte)'e' => "APPENDS",
            (byte)'G' => "BINFLOAT", (byte)'F' => "FLOAT", (byte)'I' => "INT", (byte)'L' => "LONG", 0x8b => "LONG4",
            (byte)'0' => "POP", (byte)'1' => "POP_MARK", (byte)'2' => "DUP", (byte)'g' => "GET", (byte)'p' => "PUT",
            0x82 => "EXT1", 0x83 => "EXT2", 0x84 => "EXT4", 0x8f => "EMPTY_SET", 0x90 => "ADDITEMS",
            0x91 => "FROZENSET", 0x96 => "BYTEARRAY8", 0x97 => "NEXT_BUFFER", 0x98 => "READONLY_BUFFER",
            (byte)'B' => "BINBYTES", (byte)'C' => "SHORT_BINBYTES", 0x8e => "BINBYTES8",
            _ => "unknown",
        };
        return $"0x{op:x2} ({name})";
    }
}
