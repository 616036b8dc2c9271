using Mistral.Runtime.Model;

namespace Mistral.Testing;

/// <summary>One tensor of a fixture's reference file, read into an owned array (the file is closed again).</summary>
public static class ReferenceTensors
{
    public static float[] Floats(string directory, string file, string name)
    {
        using var f = SafeTensorsFile.Open(Path.Combine(directory, file));
        return f.Get(name).ToFloat32();
    }

    public static int[] Ints(string directory, string file, string name)
    {
        using var f = SafeTensorsFile.Open(Path.Combine(directory, file));
        return f.Get(name).ToInt32();
    }
}
