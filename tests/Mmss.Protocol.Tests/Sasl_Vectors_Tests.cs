using System.Security.Cryptography;
using System.Text;
using Mmss.Protocol.Sasl;

namespace Mmss.Protocol.Tests;

public class Sasl_Vectors_Tests
{
    [Fact]
    public void Digest_md5_matches_the_rfc_2831_example()
    {
        // RFC 2831 §4, the IMAP example.
        var ha1 = DigestMd5Math.UserRealmPasswordHash("chris", "elwood.innosoft.com", "secret");
        var response = DigestMd5Math.Response(ha1, "OA6MG9tEQGm2hh", "OA6MHXh6VqTrRk", "00000001", "auth",
            "imap/elwood.innosoft.com", null, "AUTHENTICATE");
        var rspauth = DigestMd5Math.Response(ha1, "OA6MG9tEQGm2hh", "OA6MHXh6VqTrRk", "00000001", "auth",
            "imap/elwood.innosoft.com", null, "");
        Assert.Equal("d388dad90d4bbd760a152321f2143af7", response);
        Assert.Equal("ea40f60335c427b5527b84dbabcdfffd", rspauth);
    }

    [Fact]
    public void Cram_md5_from_stored_midstates_matches_the_rfc_2195_example()
    {
        var midstates = CramMd5Math.Midstates("tanstaaftanstaaf"u8);
        var digest = CramMd5Math.Hmac(midstates, "<1896.697170952@postoffice.reston.mci.net>"u8);
        Assert.Equal("b913a602c7eda7a495b4e6e7334d3890", Convert.ToHexStringLower(digest));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(55)]
    [InlineData(56)]
    [InlineData(64)]
    [InlineData(119)]
    [InlineData(120)]
    [InlineData(1000)]
    public void Resumable_md5_agrees_with_hmac_md5_for_every_padding_case(int length)
    {
        var key = RandomNumberGenerator.GetBytes(20);
        var message = RandomNumberGenerator.GetBytes(length);
        Assert.Equal(HMACMD5.HashData(key, message), CramMd5Math.Hmac(CramMd5Math.Midstates(key), message));
    }

    [Fact]
    public void Scram_sha_1_matches_the_rfc_5802_example()
    {
        var client = new ScramClient(ScramAlgorithm.Sha1, "user", "pencil", () => "fyko+d2lbbFgONRv9qkxdawL");
        Assert.Equal("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL", Encoding.UTF8.GetString(client.InitialResponse()!));
        var final = client.Respond(Encoding.UTF8.GetBytes("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"));
        Assert.Equal("c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=", Encoding.UTF8.GetString(final));
        Assert.True(client.VerifySuccess("v=rmF9pqV8S7suAoZWja4dJRkFsKQ="u8.ToArray()));
    }

    [Fact]
    public void Scram_sha_256_matches_the_rfc_7677_example()
    {
        var client = new ScramClient(ScramAlgorithm.Sha256, "user", "pencil", () => "rOprNGfwEbeRWgbNEkqO");
        client.InitialResponse();
        var final = client.Respond(Encoding.UTF8.GetBytes("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"));
        Assert.Equal("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", Encoding.UTF8.GetString(final));
        Assert.True(client.VerifySuccess("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="u8.ToArray()));
    }

    [Fact]
    public async Task Scram_sha_1_server_accepts_the_rfc_5802_exchange_from_stored_keys_only()
    {
        var secret = SaslCredentialDeriver.DeriveScram(ScramAlgorithm.Sha1, "pencil", Convert.FromBase64String("QSXCR+Q6sek8bf92"), 4096);
        var credentials = new SaslCredentials("user", secret, secret, new Dictionary<string, byte[]>(), new byte[32]);
        var server = new ScramServer(ScramAlgorithm.Sha1, _ => ValueTask.FromResult<SaslCredentials?>(credentials), () => "3rfcNHYJY1ZVvWVs7j");
        var first = await server.StepAsync("n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"u8.ToArray(), isInitial: true);
        Assert.Equal("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096", Encoding.UTF8.GetString(first.Data!));
        var final = await server.StepAsync("c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts="u8.ToArray(), isInitial: false);
        Assert.Equal(SaslStepKind.Success, final.Kind);
        Assert.Equal("v=rmF9pqV8S7suAoZWja4dJRkFsKQ=", Encoding.UTF8.GetString(final.Data!));
    }
}
