using System.Runtime.InteropServices;

namespace Mistral.Kernels.Native;

/// <summary>
/// The one C library call .NET does not expose: the file type (regular file, FIFO, device, ...). statx is used because
/// its struct layout is the same on every Linux architecture, unlike stat's. Looked up at run time, so a C library
/// without it (or another OS) makes <see cref="TryGetFileType"/> answer false rather than fail.
/// </summary>
public static unsafe class LibC
{
    /// <summary>S_IFMT values (sys/stat.h).</summary>
    public const int S_IFMT = 0xF000, S_IFREG = 0x8000, S_IFDIR = 0x4000, S_IFIFO = 0x1000, S_IFCHR = 0x2000, S_IFBLK = 0x6000, S_IFSOCK = 0xC000;

    private const int AT_FDCWD = -100;
    private const uint STATX_TYPE = 0x1;
    private const int StatxModeOffset = 28; // struct statx: u32 mask, u32 blksize, u64 attributes, u32 nlink, u32 uid, u32 gid, u16 mode

    private static readonly delegate* unmanaged<int, byte*, int, uint, byte*, int> Statx = Lookup();

    /// <summary>The S_IFMT bits of <paramref name="path"/>, following symbolic links; false when they cannot be read here.</summary>
    public static bool TryGetFileType(string path, out int type)
    {
        type = 0;
        if (Statx == null)
            return false;
        byte[] name = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        byte* buffer = stackalloc byte[256]; // sizeof(struct statx) is 256
        fixed (byte* p = name)
        {
            if (Statx(AT_FDCWD, p, 0, STATX_TYPE, buffer) != 0)
                return false;
        }
        type = *(ushort*)(buffer + StatxModeOffset) & S_IFMT;
        return true;
    }

    private static delegate* unmanaged<int, byte*, int, uint, byte*, int> Lookup()
    {
        if (!OperatingSystem.IsLinux())
            return null;
        foreach (var name in new[] { "libc.so.6", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1" })
        {
            if (NativeLibrary.TryLoad(name, out var handle) && NativeLibrary.TryGetExport(handle, "statx", out var statx))
                return (delegate* unmanaged<int, byte*, int, uint, byte*, int>)statx;
        }
        return null;
    }
}
