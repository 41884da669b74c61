using System;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace FastPath.Gateway.Control;

// SO_PEERCRED (socket(7), unix(7)): the kernel's record of who connected — pid, uid, gid at connect
// time, not forgeable by the client. struct ucred { pid_t pid; uid_t uid; gid_t gid; } = 12 bytes.

/// <summary>The credentials of the process at the other end of a Unix socket.</summary>
public readonly record struct PeerCredentials(int Pid, uint Uid, uint Gid)
{
    private const int SolSocket = 1;   // SOL_SOCKET on Linux
    private const int SoPeerCred = 17; // SO_PEERCRED on Linux (asm-generic/socket.h)

    public static PeerCredentials Of(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        Span<byte> buf = stackalloc byte[12];
        int n = socket.GetRawSocketOption(SolSocket, SoPeerCred, buf);
        if (n < 12) throw new SocketException((int)SocketError.InvalidArgument);
        return new PeerCredentials(BinaryPrimitives.ReadInt32LittleEndian(buf), BinaryPrimitives.ReadUInt32LittleEndian(buf[4..]), BinaryPrimitives.ReadUInt32LittleEndian(buf[8..]));
    }

    /// <summary>The effective uid of this process.</summary>
    public static uint EffectiveUid => geteuid();

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint geteuid();
}
