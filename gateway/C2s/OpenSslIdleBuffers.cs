using System.Net.Security;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Mmss.Gateway.C2s;

/// <summary>
/// Lets OpenSSL free a TLS connection's record buffers while nothing is buffered (SSL_MODE_RELEASE_BUFFERS): about
/// 34 KB a connection otherwise held for its whole life, most of an idle terminal's cost. And gives back the memory
/// BIOs' buffers, through which .NET passes the ciphertext: a BIO's buffer keeps the size of the most it ever held at
/// once, which for a server is the handshake's flight (certificate chain and all) — some 2–3 KB a connection, never
/// used at that size again. .NET offers no setting for either, so both are done on the SslStream's native handle,
/// reached through its non-public fields; where those are not found (another runtime, another TLS library) nothing
/// happens and the connection simply keeps its buffers.
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
                var ssl = handle.DangerousGetHandle();
                SslCtrl(ssl, SslCtrlMode, SslModeReleaseBuffers, IntPtr.Zero);
                ShrinkEmptyBio(SslGetReadBio(ssl));
                ShrinkEmptyBio(SslGetWriteBio(ssl));
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

    /// <summary>
    /// Swaps an empty memory BIO's buffer for a new, unallocated one (BIO_set_mem_buf with BIO_CLOSE frees the old).
    /// Only a memory BIO (a runtime passing ciphertext through a BIO of its own would read the control differently), and
    /// only when nothing is pending: the caller holds the stream, so neither .NET nor OpenSSL is using the BIO.
    /// </summary>
    private static void ShrinkEmptyBio(IntPtr bio)
    {
        if (bio == IntPtr.Zero || BioMethodType(bio) != BioTypeMem || BioCtrl(bio, BioCtrlPending, 0, IntPtr.Zero) != 0) return;
        var fresh = BufMemNew();
        if (fresh == IntPtr.Zero) return;
        BioCtrl(bio, BioCSetBufMem, BioClose, fresh);
    }

    private const int BioTypeMem = 1 | 0x0400;    // BIO_TYPE_MEM
    private const int BioCtrlPending = 10;        // BIO_CTRL_PENDING
    private const int BioCSetBufMem = 114;        // BIO_C_SET_BUF_MEM
    private const long BioClose = 1;              // BIO_CLOSE

    private static bool Unavailable(ILogger log, string reason)
    {
        if (Interlocked.Exchange(ref _unavailable, 1) == 0)
            log.LogInformation("TLS connections keep OpenSSL's buffers while idle: {Reason}", reason);
        return false;
    }

    // The library the runtime's own TLS shim has loaded already (OpenSSL 3), so the same SSL structures.
    [DllImport("libssl.so.3", EntryPoint = "SSL_ctrl")]
    private static extern long SslCtrl(IntPtr ssl, int command, long argument, IntPtr pointer);

    [DllImport("libssl.so.3", EntryPoint = "SSL_get_rbio")]
    private static extern IntPtr SslGetReadBio(IntPtr ssl);

    [DllImport("libssl.so.3", EntryPoint = "SSL_get_wbio")]
    private static extern IntPtr SslGetWriteBio(IntPtr ssl);

    [DllImport("libcrypto.so.3", EntryPoint = "BIO_ctrl")]
    private static extern long BioCtrl(IntPtr bio, int command, long argument, IntPtr pointer);

    [DllImport("libcrypto.so.3", EntryPoint = "BIO_method_type")]
    private static extern int BioMethodType(IntPtr bio);

    [DllImport("libcrypto.so.3", EntryPoint = "BUF_MEM_new")]
    private static extern IntPtr BufMemNew();
}
