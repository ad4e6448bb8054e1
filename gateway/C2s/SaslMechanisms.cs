using Mmss.Protocol.Sasl;

namespace Mmss.Gateway.C2s;

/// <summary>The mechanisms offered (spec 7.1.2 names DIGEST-MD5, PLAIN, CRAM-MD5; SCRAM added) and how to start each.</summary>
public static class SaslMechanisms
{
    /// <summary>Strongest first: clients that pick the first one they support get SCRAM.</summary>
    public static readonly string[] Offered = ["SCRAM-SHA-256", "SCRAM-SHA-1", "DIGEST-MD5", "CRAM-MD5", "PLAIN"];

    public static ISaslServerMechanism? Create(string? name, CredentialLookup lookup, string domain, IReadOnlyCollection<string> servedDomains) => name switch
    {
        "SCRAM-SHA-256" => new ScramServer(ScramAlgorithm.Sha256, lookup),
        "SCRAM-SHA-1" => new ScramServer(ScramAlgorithm.Sha1, lookup),
        "DIGEST-MD5" => new DigestMd5Server(lookup, domain, servedDomains),
        "CRAM-MD5" => new CramMd5Server(lookup, domain),
        "PLAIN" => new PlainServer(lookup),
        _ => null,
    };
}
