namespace Mistral.Runtime.Models.Gpt2;

/// <summary>The MLP nonlinearity a GPT-2 config names in activation_function.</summary>
public enum Gpt2Activation
{
    /// <summary>0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³))): "gelu_new" (GPT-2's own) and "gelu_pytorch_tanh".</summary>
    GeluTanh,

    /// <summary>0.5·x·(1 + erf(x / sqrt 2)): "gelu".</summary>
    GeluErf,
}
