using Mistral.Kernels.Ops;
using Mistral.Kernels.Tensors;
using Mistral.Runtime.Model;
using Mistral.Runtime.Training;

namespace Mistral.Runtime.Modules;

/// <summary>
/// One forward call as the modules see it: the ops, and either the model's scratch buffers (inference: a buffer per
/// named slot, reused from step to step) or a <see cref="TrainingPass"/> (every buffer a fresh tape-owned activation,
/// every op recording its backward). One code path serves both; a module asks <see cref="Train"/> only to record.
/// </summary>
public sealed class ForwardPass
{
    private readonly ScratchTensors? _scratch;
    private readonly ParameterOverrides? _overrides;

    internal ForwardPass(IOps ops, ScratchTensors scratch, TrainingPass? train, ParameterOverrides? overrides = null)
    {
        Ops = ops;
        _scratch = scratch;
        Train = train;
        _overrides = overrides;
    }

    /// <summary>A training pass on its own (no scratch: every buffer is an activation of the tape), e.g. to run one module.</summary>
    public ForwardPass(TrainingPass train)
    {
        Ops = train.Tape.Ops;
        Train = train;
    }

    public IOps Ops { get; }

    /// <summary>The training pass whose tape records each op's backward, or null for inference.</summary>
    public TrainingPass? Train { get; }

    /// <summary>
    /// The adapters and trained copies the forward applies: the training pass's, or those an inference forward was given
    /// (evaluation during training: applied, nothing recorded); null for plain inference.
    /// </summary>
    public ParameterOverrides? Overrides => Train?.Overrides ?? _overrides;

    /// <summary>A reused scratch buffer [rows, cols] for inference; a fresh tape-owned activation while training.</summary>
    public Tensor Buffer(string slot, int rows, int cols) =>
        Train?.Activation(rows, cols) ?? _scratch!.Get(slot, rows, cols);
}
