using System.Runtime.CompilerServices;

namespace Mistral.Kernels.Native;

/// <summary>A failed MPI call (with MPI_ERRORS_RETURN set on the world communicator): the call and MPI's own error string.</summary>
public sealed class MpiException(string call, int code, string text) : Exception($"{call} failed: {text} (MPI error {code})")
{
    public int Code { get; } = code;

    public static unsafe void Check(int status, [CallerArgumentExpression(nameof(status))] string call = "")
    {
        if (status == LibMpi.MPI_SUCCESS) return;
        var buffer = stackalloc byte[LibMpi.MPI_MAX_ERROR_STRING + 1];
        string text = LibMpi.MPI_Error_string(status, buffer, out int length) == LibMpi.MPI_SUCCESS
            ? System.Text.Encoding.UTF8.GetString(buffer, Math.Clamp(length, 0, LibMpi.MPI_MAX_ERROR_STRING))
            : "unknown error";
        throw new MpiException(call, status, text);
    }
}
