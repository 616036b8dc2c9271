using Mistral.Kernels.Device;
using Mistral.Kernels.Tensors;

namespace Mistral.Kernels.Ops.Cuda;

/// <summary>
/// The row and element-wise families on the device (kernels/cu embedding, rmsnorm, layernorm, rope, swiglu, gelu, bias, elementwise, argmax),
/// through the device layer's launchers, which check shapes and dtypes and throw naming the op.
/// </summary>
public sealed partial class CudaOps
{
    private readonly Dictionary<(int HeadDim, float Theta), DeviceBuffer> _inverseFrequencies = [];

    public void EmbeddingForward(Tensor tokens, Tensor table, Tensor y)
    {
        const string op = "embedding_forward";
        EmbeddingKernel.Forward(_device, View(op, "tokens", tokens), View(op, "table", table), View(op, "y", y));
    }

    public void EmbeddingBackward(Tensor tokens, Tensor dY, Tensor dTable)
    {
        const string op = "embedding_backward";
        EmbeddingKernel.Backward(_device, View(op, "tokens", tokens), View(op, "dY", dY), View(op, "dTable", dTable));
    }

    public void RmsNormForward(Tensor x, Tensor weight, float eps, Tensor y, Tensor? rstd)
    {
        const string op = "rmsnorm_forward";
        using var narrow = AsStorage(DeviceChecks.On(this, op, "weight", weight), x.DType);   // a trained fp32 norm next to bf16 x
        RmsNormKernel.Forward(_device, View(op, "x", x), narrow?.View ?? View(op, "weight", weight), eps, View(op, "y", y), rstd is null ? null : View(op, "rstd", rstd));
    }

    public void RmsNormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor dY, Tensor dX, Tensor? dWeight)
    {
        const string op = "rmsnorm_backward";
        using var narrow = AsStorage(DeviceChecks.On(this, op, "weight", weight), x.DType);
        RmsNormKernel.Backward(_device, View(op, "x", x), narrow?.View ?? View(op, "weight", weight), View(op, "rstd", rstd), View(op, "dY", dY), View(op, "dX", dX),
            dWeight is null ? null : View(op, "dWeight", dWeight));
    }

    public void LayerNormForward(Tensor x, Tensor weight, Tensor bias, float eps, Tensor y, Tensor? mean, Tensor? rstd)
    {
        const string op = "layernorm_forward";
        using var narrowWeight = AsStorage(DeviceChecks.On(this, op, "weight", weight), x.DType);   // trained fp32 parameters next to bf16 x
        using var narrowBias = AsStorage(DeviceChecks.On(this, op, "bias", bias), x.DType);
        LayerNormKernel.Forward(_device, View(op, "x", x), narrowWeight?.View ?? View(op, "weight", weight), narrowBias?.View ?? View(op, "bias", bias), eps,
            View(op, "y", y), mean is null ? null : View(op, "mean", mean), rstd is null ? null : View(op, "rstd", rstd));
    }

    public void LayerNormBackward(Tensor x, Tensor weight, Tensor mean, Tensor rstd, Tensor dY, Tensor dX, Tensor? dWeight, Tensor? dBias)
    {
        const string op = "layernorm_backward";
        using var narrow = AsStorage(DeviceChecks.On(this, op, "weight", weight), x.DType);
        LayerNormKernel.Backward(_device, View(op, "x", x), narrow?.View ?? View(op, "weight", weight), View(op, "mean", mean), View(op, "rstd", rstd),
            View(op, "dY", dY), View(op, "dX", dX), dWeight is null ? null : View(op, "dWeight", dWeight), dBias is null ? null : View(op, "dBias", dBias));
    }

    public void GeluForward(Tensor x, GeluApproximation approximation, Tensor y)
    {
        const string op = "gelu_forward";
        GeluKernel.Forward(_device, View(op, "x", x), approximation, View(op, "y", y));
    }

    public void GeluBackward(Tensor x, Tensor dY, GeluApproximation approximation, Tensor dX)
    {
        const string op = "gelu_backward";
        GeluKernel.Backward(_device, View(op, "x", x), View(op, "dY", dY), approximation, View(op, "dX", dX));
    }

    public void BiasAdd(Tensor x, Tensor bias, Tensor y)
    {
        const string op = "bias_add";
        using var narrow = AsStorage(DeviceChecks.On(this, op, "bias", bias), x.DType);   // a trained fp32 bias next to bf16 x
        BiasKernel.Add(_device, View(op, "x", x), narrow?.View ?? View(op, "bias", bias), View(op, "y", y));
    }

    public void BiasBackward(Tensor dY, Tensor dBias)
    {
        const string op = "bias_backward";
        BiasKernel.Backward(_device, View(op, "dY", dY), View(op, "dBias", dBias));
    }

    public void RopeForward(Tensor x, Tensor positions, int headDim, float theta, Tensor y)
    {
        const string op = "rope_forward";
        RopeKernel.Forward(_device, View(op, "x", x), View(op, "positions", positions), InverseFrequencies(headDim, theta), headDim, View(op, "y", y));
    }

    public void RopeBackward(Tensor dY, Tensor positions, int headDim, float theta, Tensor dX)
    {
        const string op = "rope_backward";
        RopeKernel.Backward(_device, View(op, "dY", dY), View(op, "positions", positions), InverseFrequencies(headDim, theta), headDim, View(op, "dX", dX));
    }

    public void SwiGluForward(Tensor gate, Tensor up, Tensor y)
    {
        const string op = "swiglu_forward";
        SwiGluKernel.Forward(_device, View(op, "gate", gate), View(op, "up", up), View(op, "y", y));
    }

    public void SwiGluBackward(Tensor gate, Tensor up, Tensor dY, Tensor dGate, Tensor dUp)
    {
        const string op = "swiglu_backward";
        SwiGluKernel.Backward(_device, View(op, "gate", gate), View(op, "up", up), View(op, "dY", dY), View(op, "dGate", dGate), View(op, "dUp", dUp));
    }

    public void Add(Tensor a, Tensor b, Tensor y)
    {
        const string op = "add";
        ElementwiseKernel.Add(_device, View(op, "a", a), View(op, "b", b), View(op, "y", y));
    }

    public void Scale(Tensor x, float alpha) => ElementwiseKernel.Scale(_device, View("scale", "x", x), alpha);

    public void Argmax(Tensor logits, Tensor ids)
    {
        const string op = "argmax";
        ArgmaxKernel.Forward(_device, View(op, "logits", logits), View(op, "ids", ids));
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
