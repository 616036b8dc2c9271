namespace Mistral.Runtime.Training;

/// <summary>One optimizer update from the parameters' gradients: AdamW itself, or a data-parallel optimizer around it.</summary>
public interface IOptimizer
{
    /// <summary>One update at rate <paramref name="lr"/> of gradients scaled by <paramref name="gradScale"/> first (clipping).</summary>
    void Update(double lr, float gradScale);
}
