namespace Mistral.Kernels.Ops;

/// <summary>Which GELU: the exact erf form, or the tanh approximation GPT-2 was trained with.</summary>
public enum GeluApproximation
{
    /// <summary>0.5·x·(1 + erf(x/√2)): Hugging Face <c>gelu</c>, torch's default.</summary>
    Erf,

    /// <summary>0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))): Hugging Face <c>gelu_new</c> (GPT-2's <c>activation_function</c>).</summary>
    Tanh,
}
