using Mistral.Kernels.Native;

namespace Mistral.Runtime.Model;

/// <summary>
/// What every reader of a user's file checks first: the path names a regular file, through any symbolic links (the
/// Hugging Face cache keeps <c>snapshots/REV/model.safetensors -> ../../blobs/SHA</c>). A FIFO would block a reader
/// forever and a device may never end, so both are refused before they are opened.
/// </summary>
public static class RegularFile
{
    /// <summary>Why <paramref name="path"/> cannot be read as a regular file, or null when it can.</summary>
    public static string? Problem(string path)
    {
        if (Directory.Exists(path))
            return "is a directory, expected a file";
        var info = new FileInfo(path);
        if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { Exists: false })
            return $"is a symbolic link to '{info.LinkTarget}', which does not exist";
        if (!info.Exists)
            return "file not found";
        if (LibC.TryGetFileType(path, out int type) && type != LibC.S_IFREG)
            return $"is {Describe(type)}, not a regular file";
        return null;
    }

    /// <summary>The file the path finally names (links followed), for the calls that would otherwise see the link itself (its length).</summary>
    public static string Resolve(string path) =>
        new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;

    /// <summary>The length of the file the path finally names.</summary>
    public static long Length(string path) => new FileInfo(Resolve(path)).Length;

    private static string Describe(int type) => type switch
    {
        LibC.S_IFIFO => "a FIFO (named pipe)",
        LibC.S_IFCHR => "a character device",
        LibC.S_IFBLK => "a block device",
        LibC.S_IFSOCK => "a socket",
        LibC.S_IFDIR => "a directory",
        _ => $"a special file (type 0{Convert.ToString(type, 8)})",
    };
}
