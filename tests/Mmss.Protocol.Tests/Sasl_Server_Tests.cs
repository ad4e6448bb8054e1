using System.Text;
using Mmss.Protocol.Sasl;

namespace Mmss.Protocol.Tests;

public class Sasl_Server_Tests
{
    private const string Realm = "20.20.20.99";
    private static readonly SaslCredentials Credentials = SaslCredentialDeriver.Derive("1102", "secret-pw", [Realm, "localhost"]);

    private static ValueTask<SaslCredentials?> Lookup(string username) =>
        ValueTask.FromResult(username == "1102" ? Credentials : null);

    public static TheoryData<string> Mechanisms => new() { "PLAIN", "DIGEST-MD5", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256" };

    private static ISaslServerMechanism Server(string name) => name switch
    {
        "PLAIN" => new PlainServer(Lookup),
        "DIGEST-MD5" => new DigestMd5Server(Lookup, Realm, [Realm]),
        "CRAM-MD5" => new CramMd5Server(Lookup, Realm),
        "SCRAM-SHA-1" => new ScramServer(ScramAlgorithm.Sha1, Lookup),
        _ => new ScramServer(ScramAlgorithm.Sha256, Lookup),
    };

    private static ISaslClientMechanism Client(string name, string user, string password) => name switch
    {
        "PLAIN" => new PlainClient(user, password),
        "DIGEST-MD5" => new DigestMd5Client(user, password, Realm),
        "CRAM-MD5" => new CramMd5Client(user, password),
        "SCRAM-SHA-1" => new ScramClient(ScramAlgorithm.Sha1, user, password),
        _ => new ScramClient(ScramAlgorithm.Sha256, user, password),
    };

    private static async Task<(SaslStep Step, ISaslClientMechanism Client)> Run(string mechanism, string user, string password)
    {
        var server = Server(mechanism);
        var client = Client(mechanism, user, password);
        var step = await server.StepAsync(client.InitialResponse() ?? [], isInitial: true);
        for (var rounds = 0; step.Kind == SaslStepKind.Challenge && rounds < 4; rounds++)
        {
            step = await server.StepAsync(client.Respond(step.Data!), isInitial: false);
        }
        return (step, client);
    }

    [Theory]
    [MemberData(nameof(Mechanisms))]
    public async Task Right_password_succeeds_and_the_server_proves_itself(string mechanism)
    {
        var (step, client) = await Run(mechanism, "1102", "secret-pw");
        Assert.Equal(SaslStepKind.Success, step.Kind);
        Assert.Equal("1102", step.Username);
        Assert.True(client.VerifySuccess(step.Data));
    }

    [Theory]
    [MemberData(nameof(Mechanisms))]
    public async Task Wrong_password_fails_with_not_authorized(string mechanism)
    {
        var (step, _) = await Run(mechanism, "1102", "wrong");
        Assert.Equal(SaslStepKind.Failure, step.Kind);
        Assert.Equal(SaslFailure.NotAuthorized, step.Failure);
    }

    [Theory]
    [MemberData(nameof(Mechanisms))]
    public async Task Unknown_user_fails_with_not_authorized(string mechanism)
    {
        var (step, _) = await Run(mechanism, "9999", "secret-pw");
        Assert.Equal(SaslStepKind.Failure, step.Kind);
        Assert.Equal(SaslFailure.NotAuthorized, step.Failure);
    }

    [Fact]
    public async Task Digest_md5_challenge_names_the_server_domain_as_realm_as_in_spec_7_1_3()
    {
        var server = new DigestMd5Server(Lookup, Realm, [Realm], () => "abc");
        var challenge = Encoding.UTF8.GetString((await server.StepAsync(Array.Empty<byte>(), true)).Data!);
        Assert.Equal("realm=\"20.20.20.99\",nonce=\"abc\",qop=\"auth\",charset=utf-8,algorithm=md5-sess", challenge);
    }

    [Fact]
    public async Task Digest_md5_rejects_a_digest_uri_of_another_host()
    {
        var server = new DigestMd5Server(Lookup, Realm, [Realm]);
        var client = new DigestMd5Client("1102", "secret-pw", "evil.example");
        var challenge = await server.StepAsync(Array.Empty<byte>(), true);
        // The client computed realm from the challenge but names another host in digest-uri.
        var step = await server.StepAsync(client.Respond(challenge.Data!), false);
        Assert.Equal(SaslFailure.NotAuthorized, step.Failure);
    }

    [Fact]
    public async Task Plain_rejects_an_authzid_of_another_user()
    {
        var step = await new PlainServer(Lookup).StepAsync("1101\01102\0secret-pw"u8.ToArray(), true);
        Assert.Equal(SaslFailure.InvalidAuthzid, step.Failure);
    }

    [Fact]
    public async Task Scram_refuses_channel_binding_it_did_not_offer()
    {
        var step = await new ScramServer(ScramAlgorithm.Sha1, Lookup).StepAsync("p=tls-unique,,n=1102,r=abc"u8.ToArray(), true);
        Assert.Equal(SaslFailure.MalformedRequest, step.Failure);
    }

    [Fact]
    public void Stored_credentials_verify_the_password_they_came_from_only()
    {
        Assert.True(SaslCredentialDeriver.Verify(Credentials, "secret-pw"));
        Assert.False(SaslCredentialDeriver.Verify(Credentials, "secret-pW"));
    }

    [Fact]
    public void Verification_takes_either_the_cram_md5_midstates_or_the_scram_key()
    {
        var right = SaslCredentialDeriver.Derive("1102", "secret-pw", ["example.net"]);
        var other = SaslCredentialDeriver.Derive("1102", "other-pw", ["example.net"]);
        // Only the midstates are the password's: accepted by them alone, without the SCRAM key.
        Assert.True(SaslCredentialDeriver.Verify(other with { CramMd5Midstates = right.CramMd5Midstates }, "secret-pw"));
        // Only the SCRAM-SHA-256 key is: accepted by it.
        Assert.True(SaslCredentialDeriver.Verify(right with { CramMd5Midstates = other.CramMd5Midstates }, "secret-pw"));
        Assert.False(SaslCredentialDeriver.Verify(right, "other-pw"));
    }

    [Fact]
    public void A_spelling_of_the_password_that_saslprep_makes_the_same_still_verifies()
    {
        // U+00AD (soft hyphen) is mapped to nothing by SASLprep (RFC 4013 §2.1): other bytes, the same SCRAM key.
        var credentials = SaslCredentialDeriver.Derive("1102", "secret\u00ADpw", ["example.net"]);
        Assert.True(SaslCredentialDeriver.Verify(credentials, "secretpw"));
        Assert.True(SaslCredentialDeriver.Verify(credentials, "secret\u00ADpw"));
        Assert.False(SaslCredentialDeriver.Verify(credentials, "secret-pw"));
    }
}
