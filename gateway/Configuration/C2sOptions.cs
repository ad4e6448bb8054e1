using System.ComponentModel.DataAnnotations;

namespace Mmss.Gateway.Configuration;

/// <summary>Section "Mmss:C2s": the client-to-server XMPP listeners and their limits.</summary>
public sealed class C2sOptions : IValidatableObject
{
    public const string Section = "Mmss:C2s";

    /// <summary>Address both XMPP listeners bind to ("0.0.0.0" all IPv4, "::" all, or one address).</summary>
    public string BindAddress { get; set; } = "0.0.0.0";

    /// <summary>STARTTLS port (RFC 6120 §5).</summary>
    [Range(1, 65535)]
    public int Port { get; set; } = 5222;

    /// <summary>Direct TLS port (legacy "SSL" port that handsets still use).</summary>
    [Range(1, 65535)]
    public int TlsPort { get; set; } = 5223;

    /// <summary>Lets clients authenticate without TLS, PLAIN included. For labs and load tests only.</summary>
    public bool AllowPlaintext { get; set; }

    /// <summary>Largest stanza accepted; a bigger one ends the stream with policy-violation.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxStanzaBytes { get; set; } = 256 * 1024;

    /// <summary>Simultaneous client connections; one more is refused with resource-constraint.</summary>
    [Range(1, 10_000_000)]
    public int MaxConnections { get; set; } = 100_000;

    /// <summary>
    /// Messages of one connection being stored or routed at once; the connection reads on while fewer are in flight.
    /// </summary>
    [Range(1, 4096)]
    public int MaxMessagesInFlight { get; set; } = 64;

    /// <summary>
    /// How long, from its first failure, an MMS whose storing failed is submitted again (it is idempotent) before the
    /// terminal gets FAIL 9: a failed call to a silo that died may still have stored it, or part of a group's copies.
    /// 0 answers FAIL 9 at the first failure.
    /// </summary>
    [Range(0, 600)]
    public int StoreRetrySeconds { get; set; } = 15;

    /// <summary>
    /// Stanzas one authenticated connection may send per second, sustained (a token bucket of <see cref="StanzaBurst"/>);
    /// 0: no limit. Past it the connection is slowed or cut (<see cref="StanzaRatePolicy"/>), no one else.
    /// </summary>
    [Range(0, 1_000_000)]
    public int MaxStanzasPerSecond { get; set; } = 1000;

    /// <summary>Stanzas a connection may send at once above the sustained rate before the limit applies.</summary>
    [Range(1, 1_000_000)]
    public int StanzaBurst { get; set; } = 2000;

    /// <summary>What a connection past <see cref="MaxStanzasPerSecond"/> gets: Slow (its stream is not read until it is back under the rate: TCP backpressure) or Cut (policy-violation).</summary>
    public StanzaRatePolicy StanzaRatePolicy { get; set; } = StanzaRatePolicy.Slow;

    /// <summary>Time a new connection has to open its stream, authenticate and bind a resource.</summary>
    [Range(1, 3600)]
    public int LoginTimeoutSeconds { get; set; } = 60;

    /// <summary>After this much silence from a bound session the server sends an XEP-0199 ping.</summary>
    [Range(1, 86400)]
    public int IdleSecondsBeforePing { get; set; } = 120;

    /// <summary>A session silent this long after the server's ping is closed with connection-timeout.</summary>
    [Range(1, 3600)]
    public int PingTimeoutSeconds { get; set; } = 30;

    /// <summary>Failed SASL attempts on one connection before it is closed with not-authorized.</summary>
    [Range(1, 100)]
    public int MaxAuthAttemptsPerConnection { get; set; } = 3;

    /// <summary>Failed authentications per UDN within <see cref="AuthFailureWindowSeconds"/> before further attempts are refused.</summary>
    [Range(1, 10000)]
    public int MaxAuthFailuresPerUser { get; set; } = 10;

    /// <summary>Failed authentications per source IP within the window before further attempts are refused.</summary>
    [Range(1, 100000)]
    public int MaxAuthFailuresPerAddress { get; set; } = 50;

    [Range(1, 86400)]
    public int AuthFailureWindowSeconds { get; set; } = 300;

    /// <summary>XEP-0198: how long a session whose connection was lost waits for its terminal to resume it.</summary>
    [Range(1, 86400)]
    public int ResumeTimeoutSeconds { get; set; } = 300;

    /// <summary>XEP-0198: stanzas a client may leave unacknowledged before the stream is closed.</summary>
    [Range(10, 1_000_000)]
    public int MaxUnacknowledgedStanzas { get; set; } = 10_000;

    /// <summary>
    /// XEP-0138 zlib stream compression, offered to authenticated TCP streams (never over WebSocket, RFC 7395 §3.3.3).
    /// Compressing inside TLS lets an attacker who can inject text into a victim's stream and watch its size learn
    /// secrets in it (CRIME); turn it off where that matters more than the bytes saved.
    /// </summary>
    public bool Compression { get; set; } = true;

    /// <summary>
    /// Largest ratio of inflated to compressed bytes between two stanzas (beyond a fixed allowance of
    /// <see cref="Streams.InflatingStream.AllowanceBytes"/>); more ends the stream with policy-violation.
    /// </summary>
    [Range(2, 1100)]
    public int MaxCompressionRatio { get; set; } = 100;

    /// <summary>XEP-0078 legacy authentication (jabber:iq:auth), plaintext over TLS only unless <see cref="LegacyAuthDigest"/>.</summary>
    public bool LegacyAuth { get; set; } = true;

    /// <summary>
    /// Also offer XEP-0078 digest logins, which succeed only for users provisioned with legacyDigest (whose password is
    /// kept). Off by default: a digest is a SHA-1 anyone who sees the stream id can try passwords against offline.
    /// </summary>
    public bool LegacyAuthDigest { get; set; }

    /// <summary>XEP-0077 in-band registration: Off (advertised, answered not-allowed), Admin (needs the registration token), Open.</summary>
    public RegistrationPolicy Registration { get; set; } = RegistrationPolicy.Off;

    /// <summary>The token an Admin-policy registration must carry; unset: the admin API's token (Mmss:Admin:Token).</summary>
    public string? RegistrationToken { get; set; }

    /// <summary>In-band registrations (successful or not) per source address within <see cref="AuthFailureWindowSeconds"/>.</summary>
    [Range(1, 100000)]
    public int MaxRegistrationsPerAddress { get; set; } = 10;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!System.Net.IPAddress.TryParse(BindAddress, out _))
            yield return new ValidationResult($"Mmss:C2s:BindAddress '{BindAddress}' is not an IP address; use 0.0.0.0, :: or one of this host's addresses.");
        if (Port == TlsPort)
            yield return new ValidationResult("Mmss:C2s:Port and Mmss:C2s:TlsPort must differ.");
    }
}
