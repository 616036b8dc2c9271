using Mistral.Runtime.Model;
using Xunit;

namespace Mistral.Cli.Tests;

/// <summary>Compares the tensors two runs wrote: raw bits for "identical", the largest element difference for "close".</summary>
public static class SafeTensorsCompare
{
    /// <summary>Every tensor of a safetensors file as its raw fp32 bits (so -0 and NaN payloads count as differences).</summary>
    public static Dictionary<string, int[]> Bits(string path) =>
        SafeTensorsFile.ReadAll(path).ToDictionary(kv => kv.Key, kv => kv.Value.ToFloat32().Select(BitConverter.SingleToInt32Bits).ToArray());

    /// <summary>The largest |actual − expected| over every element of every tensor, and where it is; the names must match.</summary>
    public static (double MaxAbs, string Where) MaxDifference(IReadOnlyDictionary<string, float[]> expected, IReadOnlyDictionary<string, float[]> actual)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        double worst = 0;
        string where = "";
        foreach (var (name, e) in expected)
        {
            var a = actual[name];
            for (int i = 0; i < e.Length; i++)
            {
                double d = Math.Abs((double)a[i] - e[i]);
                if (d > worst) (worst, where) = (d, $"{name}[{i}] ({e[i]:R} vs {a[i]:R})");
            }
        }
        return (worst, where);
    }
}
