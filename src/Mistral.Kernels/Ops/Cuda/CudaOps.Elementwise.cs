using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>
/// The row and element-wise families on the device (kernels/cu embedding, rmsnorm, layernorm, rope, swiglu, gelu, bias,
/// elementwise, argmax):
/// the contract checked by <see cref="OpContract"/>, then the launchers, which check only what their kernels need.
/// </summary>
public sealed partial class CudaOps
{
    private readonly Dictionary<(int HeadDim, float Theta), DeviceBuffer> _inverseFrequencies = [];

    public void EmbeddingForward(Tensor tokens, Tensor table, Tensor y)
    {
        const string op = "embedding_forward";
        var (ids, tab, output) = (View(op, "tokens", tokens), View(op, "table", table), View(op, "y", y));
        OpContract.Embedding(op, tokens, table, "table", y, "y");
        EmbeddingKernel.Forward(_device, ids, tab, output);
    }

    public void EmbeddingBackward(Tensor tokens, Tensor dY, Tensor dTable)
    {
        const string op = "embedding_backward";
        var (ids, grad, dTab) = (View(op, "tokens", tokens), View(op, "dY", dY), View(op, "dTable", dTable));
        OpContract.Embedding(op, tokens, dTable, "dTable", dY, "dY");
        EmbeddingKernel.Backward(_device, ids, grad, dTab);
    }

    public void RmsNormForward(Tensor x, Tensor weight, float eps, Tensor y, Tensor? rstd)
    {
        const string op = "rmsnorm_forward";
        var (input, w, output) = (View(op, "x", x), DeviceChecks.On(this, op, "weight", weight), View(op, "y", y));
        var saved = rstd is null ? (DeviceTensor?)null : View(op, "rstd", rstd);
        OpContract.RmsNormForward(op, x, weight, y, rstd);
        using var narrow = AsStorage(w, x.DType);   // a trained fp32 norm next to bf16 x
        RmsNormKernel.Forward(_device, input, narrow?.View ?? w.View, eps, output, saved);
    }

    public void RmsNormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor dY, Tensor dX, Tensor? dWeight)
    {
        const string op = "rmsnorm_backward";
        var (input, w, saved) = (View(op, "x", x), DeviceChecks.On(this, op, "weight", weight), View(op, "rstd", rstd));
        var (grad, dInput) = (View(op, "dY", dY), View(op, "dX", dX));
        var dW = dWeight is null ? (DeviceTensor?)null : View(op, "dWeight", dWeight);
        OpContract.RmsNormBackward(op, x, weight, rstd, dY, dX, dWeight);
        using var narrow = AsStorage(w, x.DType);
        using var partials = Pool.RentScoped(dW is null ? 0 : RmsNormKernel.PartialsBytes(input.Rows, input.Columns));
        RmsNormKernel.Backward(_device, input, narrow?.View ?? w.View, saved, grad, dInput, dW, partials.Memory);
    }

    public void LayerNormForward(Tensor x, Tensor weight, Tensor bias, float eps, Tensor y, Tensor? mean, Tensor? rstd)
    {
        const string op = "layernorm_forward";
        var (input, w, b, output) = (View(op, "x", x), DeviceChecks.On(this, op, "weight", weight), DeviceChecks.On(this, op, "bias", bias), View(op, "y", y));
        var (savedMean, savedRstd) = (mean is null ? (DeviceTensor?)null : View(op, "mean", mean), rstd is null ? (DeviceTensor?)null : View(op, "rstd", rstd));
        OpContract.LayerNormForward(op, x, weight, bias, y, mean, rstd);
        using var narrowWeight = AsStorage(w, x.DType);   // trained fp32 parameters next to bf16 x
        using var narrowBias = AsStorage(b, x.DType);
        LayerNormKernel.Forward(_device, input, narrowWeight?.View ?? w.View, narrowBias?.View ?? b.View, eps, output, savedMean, savedRstd);
    }

    public void LayerNormBackward(Tensor x, Tensor weight, Tensor mean, Tensor rstd, Tensor dY, Tensor dX, Tensor? dWeight, Tensor? dBias)
    {
        const string op = "layernorm_backward";
        var (input, w, savedMean, savedRstd) = (View(op, "x", x), DeviceChecks.On(this, op, "weight", weight), View(op, "mean", mean), View(op, "rstd", rstd));
        var (grad, dInput) = (View(op, "dY", dY), View(op, "dX", dX));
        var (dW, dB) = (dWeight is null ? (DeviceTensor?)null : View(op, "dWeight", dWeight), dBias is null ? (DeviceTensor?)null : View(op, "dBias", dBias));
        OpContract.LayerNormBackward(op, x, weight, mean, rstd, dY, dX, dWeight, dBias);
        using var narrow = AsStorage(w, x.DType);
        using var partials = Pool.RentScoped(dW is null && dB is null ? 0 : LayerNormKernel.PartialsBytes(input.Rows, input.Columns));
        LayerNormKernel.Backward(_device, input, narrow?.View ?? w.View, savedMean, savedRstd, grad, dInput, dW, dB, partials.Memory);
    }

    public void GeluForward(Tensor x, GeluApproximation approximation, Tensor y)
    {
        const string op = "gelu_forward";
        var (input, output) = (View(op, "x", x), View(op, "y", y));
        OpContract.Gelu(op, x, ("y", y));
        GeluKernel.Forward(_device, input, approximation, output);
    }

    public void GeluBackward(Tensor x, Tensor dY, GeluApproximation approximation, Tensor dX)
    {
        const string op = "gelu_backward";
        var (input, grad, dInput) = (View(op, "x", x), View(op, "dY", dY), View(op, "dX", dX));
        OpContract.Gelu(op, x, ("dY", dY), ("dX", dX));
        GeluKernel.Backward(_device, input, grad, approximation, dInput);
    }

    public void BiasAdd(Tensor x, Tensor bias, Tensor y)
    {
        const string op = "bias_add";
        var (input, b, output) = (View(op, "x", x), DeviceChecks.On(this, op, "bias", bias), View(op, "y", y));
        OpContract.BiasAdd(op, x, bias, y);
        using var narrow = AsStorage(b, x.DType);   // a trained fp32 bias next to bf16 x
        BiasKernel.Add(_device, input, narrow?.View ?? b.View, output);
    }

    public void BiasBackward(Tensor dY, Tensor dBias)
    {
        const string op = "bias_backward";
        var (grad, dB) = (View(op, "dY", dY), View(op, "dBias", dBias));
        OpContract.BiasBackward(op, dY, dBias);
        using var partials = Pool.RentScoped(BiasKernel.PartialsBytes(grad.Rows, grad.Columns));
        BiasKernel.Backward(_device, grad, dB, partials.Memory);
    }

    public void RopeForward(Tensor x, Tensor positions, int headDim, float theta, Tensor y)
    {
        const string op = "rope_forward";
        var (input, pos, output) = (View(op, "x", x), View(op, "positions", positions), View(op, "y", y));
        OpContract.Rope(op, x, "x", positions, headDim, y, "y");
        RopeKernel.Forward(_device, input, pos, InverseFrequencies(headDim, theta), headDim, output);
    }

    public void RopeBackward(Tensor dY, Tensor positions, int headDim, float theta, Tensor dX)
    {
        const string op = "rope_backward";
        var (grad, pos, dInput) = (View(op, "dY", dY), View(op, "positions", positions), View(op, "dX", dX));
        OpContract.Rope(op, dY, "dY", positions, headDim, dX, "dX");
        RopeKernel.Backward(_device, grad, pos, InverseFrequencies(headDim, theta), headDim, dInput);
    }

    public void SwiGluForward(Tensor gate, Tensor up, Tensor y)
    {
        const string op = "swiglu_forward";
        var (g, u, output) = (View(op, "gate", gate), View(op, "up", up), View(op, "y", y));
        OpContract.SwiGlu(op, gate, ("up", up), ("y", y));
        SwiGluKernel.Forward(_device, g, u, output);
    }

    public void SwiGluBackward(Tensor gate, Tensor up, Tensor dY, Tensor dGate, Tensor dUp)
    {
        const string op = "swiglu_backward";
        var (g, u, grad) = (View(op, "gate", gate), View(op, "up", up), View(op, "dY", dY));
        var (dg, du) = (View(op, "dGate", dGate), View(op, "dUp", dUp));
        OpContract.SwiGlu(op, gate, ("up", up), ("dY", dY), ("dGate", dGate), ("dUp", dUp));
        SwiGluKernel.Backward(_device, g, u, grad, dg, du);
    }

    public void Add(Tensor a, Tensor b, Tensor y)
    {
        const string op = "add";
        var (ma, mb, my) = (View(op, "a", a), View(op, "b", b), View(op, "y", y));
        OpContract.Add(op, a, b, y);
        ElementwiseKernel.Add(_device, ma, mb, my);
    }

    public void Scale(Tensor x, float alpha)
    {
        var mx = View("scale", "x", x);
        OpContract.Float("scale", "x", x);
        ElementwiseKernel.Scale(_device, mx, alpha);
    }

    public void Argmax(Tensor logits, Tensor ids)
    {
        const string op = "argmax";
        var (ml, mi) = (View(op, "logits", logits), View(op, "ids", ids));
        OpContract.Argmax(op, logits, ids);
        ArgmaxKernel.Forward(_device, ml, mi);
    }

    private void Cast(CudaTensor src, CudaTensor dst) => ElementwiseKernel.Cast(_device, src.View, dst.View);

    private DeviceTensor View(string op, string name, Tensor tensor) => DeviceChecks.On(this, op, name, tensor).View;

    /// <summary>inv_freq [Dh/2] of one (head dim, theta), computed on the host as the reference does, uploaded once.</summary>
    private DeviceTensor InverseFrequencies(int headDim, float theta)
    {
        if (!_inverseFrequencies.TryGetValue((headDim, theta), out var buffer))
            _inverseFrequencies[(headDim, theta)] = buffer = RopeKernel.InverseFrequencies(_device, headDim, theta);
        return DeviceTensor.Of(buffer, new Shape(headDim / 2), DType.F32);
    }
}
