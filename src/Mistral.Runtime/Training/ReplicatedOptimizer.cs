using Mistral.Kernels.Distributed;
using Mistral.Kernels.Ops;
using Mistral.Runtime.Model;

namespace Mistral.Runtime.Training;

/// <summary>
/// ZeRO stage 0 (plain data parallelism): gradients all-reduced to every rank, every rank holds the whole AdamW state and
/// applies the same update; rank 0 alone writes the state (optimizer.safetensors). With one rank: AdamW alone.
/// </summary>
public sealed class ReplicatedOptimizer : IDataParallelOptimizer
{
    private readonly IOps _ops;
    private readonly ICommunicator _comm;
    private readonly IReadOnlyList<TrainableParameter> _parameters;
    private readonly GradientSync _sync;
    private readonly AdamW _adam;

    /// <param name="createAdamW">builds the AdamW over the parameters given (the trainer's hyper-parameters).</param>
    public ReplicatedOptimizer(IOps ops, ICommunicator communicator, IReadOnlyList<TrainableParameter> parameters,
        Func<IReadOnlyList<TrainableParameter>, AdamW> createAdamW, long bucketElements = GradientSync.DefaultBucketElements)
    {
        (_ops, _comm, _parameters) = (ops, communicator, parameters);
        _sync = new GradientSync(communicator, parameters, bucketElements);
        _adam = createAdamW(parameters);
        StateBytes = UnshardedStateBytes = DataParallelOptimizer.StateBytesOf(parameters);
    }

    public int ZeroStage => 0;
    public int Step => _adam.Step;
    public long StateBytes { get; }
    public long UnshardedStateBytes { get; }

    public void ReduceGradients() => _sync.AllReduceGradients();
    public double GradientNorm() => GradientClipping.GlobalNorm(_ops, _parameters);
    public void Update(double lr, float gradScale) => _adam.Update(lr, gradScale);

    public void WriteState(string folder)
    {
        if (_comm.Rank == 0) SafeTensorsWriter.Write(Path.Combine(folder, OptimizerStateFiles.Replicated), _adam.ExportState());
    }

    public void ReadState(string checkpoint, int step)
    {
        var (state, source) = OptimizerStateFiles.Read(checkpoint, _comm.Rank, _comm.WorldSize, sharded: false);
        _adam.ImportState(state, step, source);
    }

    public void Dispose() => _adam.Dispose();
}
