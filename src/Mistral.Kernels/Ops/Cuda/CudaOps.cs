using System.Runtime.InteropServices;
using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>
/// <see cref="IOps"/> on a CUDA device, real (<see cref="CudaDevice"/>) or emulated (<see cref="EmulatedDevice"/>):
/// the project's kernels (kernels/cu) through their launchers, GEMMs through the device's GEMM (cuBLAS, or the
/// emulator's reference loop) except linear layers on at most <see cref="GemvKernel.MaxRows"/> rows (decode), which take
/// the GEMV kernel; fp32 accumulation everywhere. Activations are stored in <see cref="ActivationDType"/>
/// (BF16 for --precision bf16, F32 for exact parity); weights are whatever dtype they were uploaded as, once.
/// Memory comes from a <see cref="DeviceMemoryPool"/> (the caching allocator), so a decode step allocates nothing from the driver.
/// Decode steps (every sequence one token, with a cache) take the split-KV decode kernel, everything else the flash prefill.
/// </summary>
public sealed partial class CudaOps : IOps, IDeviceOps
{
    private readonly IDevice _device;
    private readonly bool _ownsDevice;
    private AttentionSequenceTable _sequences;
    private AttentionBatch? _uploadedBatch;     // the batch now in _sequences: the layers of one step share it
    private AttentionSequences _uploaded;

    /// <param name="device">The device; disposed with these ops when <paramref name="ownsDevice"/>.</param>
    /// <param name="activationDType">F32 or BF16.</param>
    /// <param name="arenaBytes">Device memory to reserve up front for tensors, as one large-pool segment (0: grow on demand).</param>
    public CudaOps(IDevice device, DType activationDType, long arenaBytes = 0, bool ownsDevice = false)
    {
        if (activationDType is not (DType.F32 or DType.BF16))
            throw new ArgumentException($"cuda ops keep activations in F32 or BF16, not {activationDType}");
        _device = device;
        _ownsDevice = ownsDevice;
        ActivationDType = activationDType;
        Pool = new DeviceMemoryPool(device, arenaBytes);
        _sequences = new AttentionSequenceTable(device, 16);
    }

    /// <summary>"cuda" or "emu": the device's name.</summary>
    public string Name => _device.Name;
    public DType ActivationDType { get; }
    public IDevice Device => _device;
    public IDeviceOps? OnDevice => this;

    /// <summary>The device's memory less what this process holds on it; the host's when the device does not say (the emulator).</summary>
    public long AvailableMemoryBytes => _device.Info.TotalMemoryBytes > 0 ? _device.Info.TotalMemoryBytes - _device.LiveBytes : HostMemory.TotalBytes;
    public DeviceMemoryPool Pool { get; }

    // ---- memory ---------------------------------------------------------------------------------------------------

    public Tensor Allocate(Shape shape, DType dtype)
    {
        var tensor = Rent(shape, dtype);
        if (tensor.ByteCount > 0) _device.Memset(tensor.Memory, 0);
        return tensor;
    }

    /// <summary>A tensor whose contents are whatever the pool held (for outputs that a kernel overwrites whole).</summary>
    internal CudaTensor Rent(Shape shape, DType dtype)
    {
        if (dtype is not (DType.F32 or DType.BF16 or DType.F16 or DType.I32))
            throw new ArgumentException($"{Name} ops store F32, BF16, F16 or I32 tensors, not {dtype}");
        return new CudaTensor(Pool, Pool.Rent(shape.ElementCount * dtype.SizeOf()), shape, dtype);
    }

    public Tensor Upload(ReadOnlySpan<byte> data, DType sourceDType, Shape shape, DType dtype)
    {
        OpContract.UploadBytes(data.Length, sourceDType, shape, dtype);
        var tensor = Rent(shape, dtype);
        try
        {
            if (sourceDType == dtype)
                _device.CopyToDevice(data, tensor.Memory);
            else if (dtype.IsFloat())
                UploadConverted(data, sourceDType, tensor);
            else
                UploadNarrowed(MemoryMarshal.Cast<byte, long>(data), tensor);
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
        return tensor;
    }

    public Tensor Upload(ReadOnlySpan<float> data, Shape shape, DType dtype)
    {
        OpContract.UploadValues(data.Length, DType.F32, shape, dtype);
        return Upload(MemoryMarshal.AsBytes(data), DType.F32, shape, dtype);
    }

    public Tensor Upload(ReadOnlySpan<int> data, Shape shape)
    {
        OpContract.UploadValues(data.Length, DType.I32, shape, DType.I32);
        return Upload(MemoryMarshal.AsBytes(data), DType.I32, shape, DType.I32);
    }

    public void Download(Tensor src, Span<float> dst)
    {
        var s = DeviceChecks.On(this, "download", "src", src);
        OpContract.Download(src, dst.Length, DType.F32);
        if (s.DType == DType.F32)
        {
            _device.CopyToHost(s.Memory.Cast<float>(), dst);
            return;
        }
        var raw = new byte[s.ByteCount];
        _device.CopyToHost(s.Memory, raw);
        FloatBits.ToSingle(raw, s.DType, dst);
    }

    public void Download(Tensor src, Span<int> dst)
    {
        var s = DeviceChecks.On(this, "download", "src", src);
        OpContract.Download(src, dst.Length, DType.I32);
        _device.CopyToHost(s.Memory.Cast<int>(), dst);
    }

    public void Copy(Tensor src, Tensor dst)
    {
        const string op = "copy";
        var (s, d) = (DeviceChecks.On(this, op, "src", src), DeviceChecks.On(this, op, "dst", dst));
        OpContract.Copy(src, dst);
        if (s.DType == d.DType)
        {
            _device.Copy(s.Memory, d.Memory);
            return;
        }
        if (!s.DType.IsFloat() || !d.DType.IsFloat()) throw new ArgumentException($"{op}: no {Name} conversion from {s.DType} to {d.DType}");
        Cast(s, d);
    }

    public void Fill(Tensor dst, float value)
    {
        var d = DeviceChecks.On(this, "fill", "dst", dst);
        OpContract.Fill(dst, value);
        switch (d.DType)
        {
            case DType.F32:
                _device.Memset(d.Memory.Cast<uint>(), BitConverter.SingleToUInt32Bits(value));
                break;
            case DType.I32:
                _device.Memset(d.Memory.Cast<uint>(), unchecked((uint)(int)value));
                break;
            case DType.BF16:
                ElementwiseKernel.Fill(_device, d.View, value);
                break;
            default:
            {
                var host = new ushort[d.ElementCount];
                host.AsSpan().Fill(FloatBits.SingleToHalf(value));
                _device.CopyToDevice<ushort>(host, d.Memory.Cast<ushort>());
                break;
            }
        }
    }

    /// <summary>
    /// Fills a float tensor with uniform values in [low, high) made on the device from (seed, element index): synthetic
    /// weights for benchmarks, without drawing and copying gigabytes on the host.
    /// </summary>
    public void FillUniform(Tensor destination, ulong seed, float low, float high)
    {
        var d = DeviceChecks.On(this, "fill_uniform", "dst", destination);
        RandomKernel.Uniform(_device, d.Pointer, d.ElementCount, d.DType, seed, low, high);
    }

    public void Write(ReadOnlySpan<int> source, Tensor destination)
    {
        var d = DeviceChecks.On(this, "write", "destination", destination);
        OpContract.Write(source.Length, destination);
        _device.CopyToDevice(source, d.Memory.Cast<int>());
    }

    private void UploadConverted(ReadOnlySpan<byte> data, DType sourceDType, CudaTensor tensor)
    {
        var floats = new float[tensor.ElementCount];
        FloatBits.ToSingle(data, sourceDType, floats);
        switch (tensor.DType)
        {
            case DType.F32:
                _device.CopyToDevice<float>(floats, tensor.Memory.Cast<float>());
                break;
            case DType.BF16:
            case DType.F16:
            {
                var bits = new ushort[floats.Length];
                for (int i = 0; i < bits.Length; i++)
                    bits[i] = tensor.DType == DType.BF16 ? FloatBits.SingleToBFloat16(floats[i]) : FloatBits.SingleToHalf(floats[i]);
                _device.CopyToDevice<ushort>(bits, tensor.Memory.Cast<ushort>());
                break;
            }
        }
    }

    private void UploadNarrowed(ReadOnlySpan<long> wide, CudaTensor tensor)
    {
        var ints = new int[wide.Length];
        OpContract.NarrowToInt32(wide, ints);
        _device.CopyToDevice<int>(ints, tensor.Memory.Cast<int>());
    }

    /// <summary>
    /// Writes <paramref name="batch"/> into the device sequence table now, so that attention calls with this very batch
    /// object copy nothing: a captured decode step reads the table, and it is rewritten in place before each replay.
    /// </summary>
    public void PrepareBatch(AttentionBatch batch)
    {
        _uploadedBatch = null;
        UploadBatch(batch);
    }

    public void AdvanceDecodeStep(Tensor positions, AttentionBatch batch)
    {
        const string op = "advance_decode_step";
        var p = DeviceChecks.On(this, op, "positions", positions);
        for (int b = 0; b < batch.SequenceCount; b++)
            if (batch.Lengths[b] != 1) throw new ArgumentException($"{op}: sequence {b} brings {batch.Lengths[b]} tokens; a decode step brings one each");
        var sequences = UploadBatch(batch);   // already there: the step just issued read it
        AttentionDecodeKernel.Advance(_device, sequences, p.View);
        _sequences.AdvancedOnDevice(batch.SequenceCount);
        _uploadedBatch = null;                // the table now holds the next step's batch, not this one
    }

    /// <summary>
    /// The device copy of <paramref name="batch"/>, in a table whose address only changes if a larger batch comes.
    /// Uploaded once per batch object: every layer of a step passes the same one, and each upload is a host copy.
    /// </summary>
    private AttentionSequences UploadBatch(AttentionBatch batch)
    {
        if (ReferenceEquals(batch, _uploadedBatch)) return _uploaded;
        if (batch.SequenceCount > _sequences.Capacity)
        {
            _device.Synchronize();
            _sequences.Dispose();
            _sequences = new AttentionSequenceTable(_device, Math.Max(batch.SequenceCount, 2 * _sequences.Capacity));
        }
        _uploaded = _sequences.Upload(batch);
        _uploadedBatch = batch;
        return _uploaded;
    }

    public void Dispose()
    {
        foreach (var buffer in _inverseFrequencies.Values) buffer.Dispose();
        _sequences.Dispose();
        Pool.Dispose();
        if (_ownsDevice) _device.Dispose();
    }
}
