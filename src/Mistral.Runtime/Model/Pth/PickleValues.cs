using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Model.Pth;

// The only values the pickle interpreter can build. Strings, longs, bools and null are plain .NET values; tuples are
// object?[]. Nothing here can execute code: a global is just a name that REDUCE looks up in a fixed whitelist.

/// <summary>A whitelisted global (module.name) pushed by GLOBAL or STACK_GLOBAL.</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>A dict or collections.OrderedDict; insertion order is kept.</summary>
internal sealed class PickleDict
{
    public List<KeyValuePair<object?, object?>> Items { get; } = [];
}

/// <summary>A torch storage named by a persistent id: ('storage', torch.XStorage, key, location, numel).</summary>
internal sealed record PickleStorage(DType DType, string Key, string Location, long ElementCount);

/// <summary>torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, ...), in elements.</summary>
internal sealed record PickleTensor(PickleStorage Storage, long StorageOffset, long[] Size, long[] Stride);
