using Mistral.Kernels.Tensors;

namespace Mistral.Runtime.Models;

/// <summary>
/// One tensor as a checkpoint stores it (name and shape in the file) and the native tensors it is made of, in order:
/// one for most, several where the checkpoint fuses them (<see cref="ITensorNameMap"/>).
/// </summary>
public sealed record StoredTensor(string Name, Shape Shape, IReadOnlyList<(string Name, Shape Shape)> Parts);
