using System.Text;
using Mmss.Protocol.Sasl;

namespace Mmss.Fuzz.Targets;

/// <summary>
/// The SASL server mechanisms as the c2s stream drives them: no exception may come out of a step, whatever the
/// client sends; bad input is a <see cref="SaslStepKind.Failure"/>. The first byte chooses the mechanism and whether
/// the first message travels with &lt;auth/&gt;; the rest is split at '\n' into the client's messages.
/// </summary>
public sealed class SaslTarget : FuzzTarget
{
    private const string User = "1102";
    private const string Password = "secret";
    private const string Realm = "20.20.20.99";
    private const string ServerNonce = "OA6MG9tEQGm2hh";
    private const string CramChallenge = "<1896.697170952@20.20.20.99>";

    // Fixed salts, so that a recorded SCRAM exchange stays valid in every process; one iteration, so that PLAIN and
    // SCRAM cost microseconds, not milliseconds, per try.
    private static readonly SaslCredentials Credentials = new(
        User,
        SaslCredentialDeriver.DeriveScram(ScramAlgorithm.Sha1, Password, "fuzz-salt-sha1.."u8.ToArray(), 1),
        SaslCredentialDeriver.DeriveScram(ScramAlgorithm.Sha256, Password, "fuzz-salt-sha256"u8.ToArray(), 1),
        new Dictionary<string, byte[]>(StringComparer.OrdinalIgnoreCase)
        {
            [Realm] = DigestMd5Math.UserRealmPasswordHash(User, Realm, Password),
            ["mmss.example"] = DigestMd5Math.UserRealmPasswordHash(User, "mmss.example", Password),
        },
        CramMd5Math.Midstates(Encoding.UTF8.GetBytes(Password)));

    private static readonly string[] Mechanisms = ["DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN", "CRAM-MD5", "directives"];

    public override string Name => "sasl";

    public override IReadOnlyList<string> InstrumentedAssemblies => ["Mmss.Protocol.dll"];

    public override string Run(byte[] input)
    {
        if (input.Length == 0) return "empty";
        var mechanism = Mechanisms[(input[0] & 0x7F) % Mechanisms.Length];
        var withAuth = (input[0] & 0x80) != 0;
        var body = input.AsMemory(1);
        if (mechanism == "directives")
        {
            return CheckDirectives(Encoding.UTF8.GetString(body.Span));
        }
        var server = Server(mechanism);
        var steps = Split(body);
        var first = true;
        if (!withAuth)
        {
            // <auth/> without an initial response, then the messages as <response/>s.
            var start = Step(server, ReadOnlyMemory<byte>.Empty, isInitial: true);
            if (start.Kind != SaslStepKind.Challenge) return Describe(mechanism, start);
            first = false;
        }
        SaslStep? last = null;
        foreach (var data in steps)
        {
            last = Step(server, data, first);
            first = false;
            if (last.Kind != SaslStepKind.Challenge) break;
        }
        return Describe(mechanism, last!);
    }

    private static string Describe(string mechanism, SaslStep step) =>
        $"{mechanism}: {step.Kind}{(step.Kind == SaslStepKind.Failure ? $" {step.Failure} ({step.Reason})" : "")}";

    private static SaslStep Step(ISaslServerMechanism server, ReadOnlyMemory<byte> data, bool isInitial)
    {
        var task = server.StepAsync(data, isInitial);
        if (!task.IsCompleted) throw new InvariantException("the credential lookup is synchronous here; a step must complete");
        var step = task.Result;
        if (step.Kind == SaslStepKind.Success && step.Username != User) throw new InvariantException($"success for '{step.Username}', who has no credentials");
        return step;
    }

    private static ISaslServerMechanism Server(string mechanism)
    {
        CredentialLookup lookup = name => ValueTask.FromResult(name == User ? Credentials : null);
        return mechanism switch
        {
            "DIGEST-MD5" => new DigestMd5Server(lookup, Realm, ["mmss.example"], () => ServerNonce),
            "SCRAM-SHA-1" => new ScramServer(ScramAlgorithm.Sha1, lookup, () => ServerNonce),
            "SCRAM-SHA-256" => new ScramServer(ScramAlgorithm.Sha256, lookup, () => ServerNonce),
            "PLAIN" => new PlainServer(lookup),
            _ => new CramMd5Server(lookup, Realm, () => CramChallenge),
        };
    }

    /// <summary>
    /// RFC 2831 §7.1: directives whose names are tokens, written with Quote, read back unchanged. (Parse is lenient
    /// about names that are not tokens, "a,b" or "", which Quote does not cover: such a directive is simply never looked up.)
    /// </summary>
    private static string CheckDirectives(string text)
    {
        var parsed = DigestDirectives.Parse(text);
        if (parsed is null) return "directives: malformed";
        if (!parsed.Keys.All(IsToken)) return "directives: names that are not tokens";
        var written = string.Join(",", parsed.Select(d => $"{d.Key}={DigestDirectives.Quote(d.Value)}"));
        var again = DigestDirectives.Parse(written);
        if (again is null || again.Count != parsed.Count || parsed.Any(d => !again.TryGetValue(d.Key, out var v) || v != d.Value))
            throw new InvariantException($"directives changed when quoted: '{text}' → '{written}'");
        return $"directives: {parsed.Count}";
    }

    /// <summary>RFC 2616 §2.2 token: one or more CHARs, no CTLs, no separators.</summary>
    private static bool IsToken(string name) =>
        name.Length > 0 && name.All(c => c is > ' ' and < '\x7F' && !"()<>@,;:\\\"/[]?={}".Contains(c));

    private static List<ReadOnlyMemory<byte>> Split(ReadOnlyMemory<byte> body)
    {
        var parts = new List<ReadOnlyMemory<byte>>();
        while (true)
        {
            var newline = body.Span.IndexOf((byte)'\n');
            if (newline < 0) { parts.Add(body); return parts; }
            parts.Add(body[..newline]);
            body = body[(newline + 1)..];
        }
    }

    public override IEnumerable<string> Dictionary() =>
    [
        "username=", "realm=", "nonce=", "cnonce=", "nc=00000001", "qop=auth", "qop=auth-int", "digest-uri=", "\"xmpp/20.20.20.99\"",
        "response=", "authzid=", "charset=utf-8", "\"", "\\", ",", "=", ServerNonce, User, Password, Realm,
        "n,,", "y,,", "p=tls-unique,,", "n,a=", "n=", "r=", "c=biws", ",p=", "m=", "=2C", "=3D", "\0", " ", "\n",
    ];

    public override IEnumerable<(string Name, byte[] Bytes)> Seeds()
    {
        // Whole, valid exchanges written by the client-side mechanisms (protocol/Sasl/*Client.cs) against the fixed nonces.
        yield return ("digest-md5", Exchange(0, new DigestMd5Client(User, Password, Realm, () => "OA6MHXh6VqTrRk")));
        yield return ("digest-md5-spec", [0, .. Encoding.UTF8.GetBytes(
            $"username=\"1102\",realm=\"{Realm}\",nonce=\"{ServerNonce}\",cnonce=\"OA6MHXh6VqTrRk\",nc=00000001,qop=auth," +
            $"digest-uri=\"xmpp/{Realm}\",response=d388dad90d4bbd760a152321f2143af7,charset=utf-8")]);
        yield return ("scram-sha-1", Exchange(0x80 | 1, new ScramClient(ScramAlgorithm.Sha1, User, Password, () => "fyko+d2lbbFgONRv9qkxdawL")));
        yield return ("scram-sha-256", Exchange(0x80 | 2, new ScramClient(ScramAlgorithm.Sha256, User, Password, () => "rOprNGfwEbeRWgbNEkqO")));
        yield return ("plain", Exchange(0x80 | 3, new PlainClient(User, Password)));
        yield return ("plain-authzid", [0x80 | 3, .. "1102@20.20.20.99\u00001102\u0000secret"u8]);
        yield return ("cram-md5", Exchange(4, new CramMd5Client(User, Password)));
        yield return ("directives", [5, .. Encoding.UTF8.GetBytes($"realm=\"{Realm}\",nonce=\"a\\\"b\",qop=\"auth\",charset=utf-8,algorithm=md5-sess")]);
    }

    /// <summary>Runs the client against a fresh server and records the client's messages, '\n'-separated.</summary>
    private static byte[] Exchange(byte mode, ISaslClientMechanism client)
    {
        var server = Server(Mechanisms[mode & 0x7F]);
        var messages = new List<byte[]>();
        SaslStep step;
        if ((mode & 0x80) != 0)
        {
            var initial = client.InitialResponse() ?? [];
            messages.Add(initial);
            step = server.StepAsync(initial, true).AsTask().Result;
        }
        else step = server.StepAsync(ReadOnlyMemory<byte>.Empty, true).AsTask().Result;
        while (step.Kind == SaslStepKind.Challenge)
        {
            var answer = client.Respond(step.Data ?? []);
            messages.Add(answer);
            step = server.StepAsync(answer, false).AsTask().Result;
        }
        if (step.Kind != SaslStepKind.Success) throw new InvalidOperationException($"seed exchange for {client.Name} failed: {step.Reason}");
        return [mode, .. Encoding.UTF8.GetBytes(string.Join("\n", messages.Select(Encoding.UTF8.GetString)))];
    }
}
