using CsCheck;
using Mmss.Protocol.Sasl;

namespace Mmss.Protocol.Tests;

/// <summary>
/// The client side (protocol/Sasl/*Client.cs, used by XmppClient and the load tool) and the server side agree for
/// random credentials: names with ',', '=', '"', '\', spaces and non-ASCII letters, passwords of any Unicode text.
/// </summary>
public class Sasl_Properties_Tests
{
    private const string Realm = "20.20.20.99";

    private static readonly string[] Mechanisms = ["PLAIN", "DIGEST-MD5", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"];

    /// <summary>Pieces that stress each mechanism's encoding; NUL never (PLAIN's separator, and no terminal sends it).</summary>
    private static readonly Gen<string> Piece = Gen.OneOf(
        Gen.String[Gen.Char['a', 'z'], 1, 4], Gen.String[Gen.Char['0', '9'], 1, 4],
        Gen.OneOf(",", "=", "=2C", "\"", "\\", " ", "@", "/", ":", "n=", "\t", "é", "中文", "😀", "ﬁ", "\u00A0", "Ω", "\u2126"));

    private static readonly Gen<string> Username = Piece.Array[1, 5].Select(p => string.Concat(p));

    private static readonly Gen<string> Password = Piece.Array[1, 6].Select(p => string.Concat(p));

    private static ISaslServerMechanism Server(string mechanism, CredentialLookup lookup) => mechanism switch
    {
        "PLAIN" => new PlainServer(lookup),
        "DIGEST-MD5" => new DigestMd5Server(lookup, Realm, [Realm]),
        "CRAM-MD5" => new CramMd5Server(lookup, Realm),
        "SCRAM-SHA-1" => new ScramServer(ScramAlgorithm.Sha1, lookup),
        _ => new ScramServer(ScramAlgorithm.Sha256, lookup),
    };

    private static ISaslClientMechanism Client(string mechanism, string user, string password) => mechanism switch
    {
        "PLAIN" => new PlainClient(user, password),
        "DIGEST-MD5" => new DigestMd5Client(user, password, Realm),
        "CRAM-MD5" => new CramMd5Client(user, password),
        "SCRAM-SHA-1" => new ScramClient(ScramAlgorithm.Sha1, user, password),
        _ => new ScramClient(ScramAlgorithm.Sha256, user, password),
    };

    private static (SaslStep Step, ISaslClientMechanism Client) Exchange(string mechanism, string user, string storedPassword, string typedPassword)
    {
        // Few PBKDF2 iterations: the property is about encodings, not the cost of a guess.
        var credentials = SaslCredentialDeriver.Derive(user, storedPassword, [Realm], iterations: 2);
        var server = Server(mechanism, name => ValueTask.FromResult(name == user ? credentials : null));
        var client = Client(mechanism, user, typedPassword);
        var step = server.StepAsync(client.InitialResponse() ?? [], isInitial: true).AsTask().GetAwaiter().GetResult();
        for (var rounds = 0; step.Kind == SaslStepKind.Challenge && rounds < 4; rounds++)
            step = server.StepAsync(client.Respond(step.Data!), isInitial: false).AsTask().GetAwaiter().GetResult();
        return (step, client);
    }

    [Fact]
    public void Client_and_server_agree_for_random_credentials_and_the_server_proves_itself()
    {
        Gen.Select(Gen.OneOf(Mechanisms), Username, Password).Sample((mechanism, user, password) =>
        {
            var (step, client) = Exchange(mechanism, user, password, password);
            Assert.True(step.Kind == SaslStepKind.Success, $"{mechanism}: {step.Kind} {step.Failure} {step.Reason}");
            Assert.Equal(user, step.Username);
            Assert.True(client.VerifySuccess(step.Data), $"{mechanism}: the client does not accept the server's proof");
        }, iter: 500, print: t => $"{t.Item1} user '{t.Item2}' password '{t.Item3}'");
    }

    [Fact]
    public void Client_with_another_password_is_refused_with_not_authorized()
    {
        Gen.Select(Gen.OneOf(Mechanisms), Username, Password, Password)
            .Where((_, _, stored, typed) => ScramMath.SaslPrep(stored) != ScramMath.SaslPrep(typed) && stored != typed)
            .Sample((mechanism, user, stored, typed) =>
            {
                var (step, _) = Exchange(mechanism, user, stored, typed);
                Assert.Equal(SaslStepKind.Failure, step.Kind);
                Assert.Equal(SaslFailure.NotAuthorized, step.Failure);
            }, iter: 300, print: t => $"{t.Item1} user '{t.Item2}' stored '{t.Item3}' typed '{t.Item4}'");
    }
}
