using System.Net.Security;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Mmss.Gateway.C2s;

/// <summary>
/// Lets OpenSSL free a TLS connection's record buffers while nothing is buffered (SSL_MODE_RELEASE_BUFFERS): about
/// 34 KB a connection otherwise held for its whole life, most of an idle terminal's cost. .NET offers no setting for it,
/// so the mode is set on the SslStream's native handle, reached through its non-public fields; where those are not
/// found (another runtime, another TLS library) nothing happens and the connection simply keeps its buffers.
/// </summary>
internal static class OpenSslIdleBuffers
{
    private const int SslCtrlMode = 33;           // SSL_CTRL_MODE
    private const long SslModeReleaseBuffers = 0x10;

    private static readonly FieldInfo? SecurityContextField =
        typeof(SslStream).GetField("_securityContext", BindingFlags.Instance | BindingFlags.NonPublic);

    private static int _unavailable = OperatingSystem.IsLinux() ? 0 : 1;

    /// <summary>Call once the handshake is done and before the stream is read or written again.</summary>
    public static bool TryRelease(SslStream tls, ILogger log)
    {
        if (Volatile.Read(ref _unavailable) != 0) return false;
        try
        {
            var context = SecurityContextField?.GetValue(tls);
            // .NET 10 on Linux: the context is the SSL* handle itself; earlier versions wrapped it (SslContext).
            var handle = context as SafeHandle ?? context?.GetType()
                .GetProperty("SslContext", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public)?.GetValue(context) as SafeHandle;
            // Only a handle known to hold an OpenSSL SSL*: anything else passed to SSL_ctrl would crash the process.
            if (handle is null || handle.IsInvalid || handle.GetType().FullName != "Microsoft.Win32.SafeHandles.SafeSslHandle")
                return Unavailable(log, "the SslStream's OpenSSL handle was not found");
            var added = false;
            handle.DangerousAddRef(ref added);
            try
            {
                SslCtrl(handle.DangerousGetHandle(), SslCtrlMode, SslModeReleaseBuffers, IntPtr.Zero);
            }
            finally
            {
                if (added) handle.DangerousRelease();
            }
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TargetInvocationException or FieldAccessException)
        {
            return Unavailable(log, e.Message);
        }
    }

    private static bool Unavailable(ILogger log, string reason)
    {
        if (Interlocked.Exchange(ref _unavailable, 1) == 0)
            log.LogInformation("TLS connections keep OpenSSL's buffers while idle: {Reason}", reason);
        return false;
    }

    // The library the runtime's own TLS shim has loaded already (OpenSSL 3), so the same SSL structures.
    [DllImport("libssl.so.3", EntryPoint = "SSL_ctrl")]
    private static extern long SslCtrl(IntPtr ssl, int command, long argument, IntPtr pointer);
}
