using System.Text;
using Mmss.Protocol.Sasl;
using Mmss.Protocol.Xmpp;

namespace Mmss.Protocol.Tests;

/// <summary>XEP-0078 §3.2 digests: hex SHA-1 of stream id and password, and what provisioning keeps for them.</summary>
public class LegacyAuthDigest_Tests
{
    private const string StreamId = "3EE948B0";
    private static readonly byte[] Password = "Calli0pe"u8.ToArray();
    private const string ExampleDigest = "48fc78be9ec8f86d8ce1c39c320c97c21d62334d";

    [Fact]
    public void The_xep_example_digest_is_computed_in_lowercase_hex() =>
        Assert.Equal(ExampleDigest, LegacyAuthDigest.Compute(StreamId, Password));

    [Theory]
    [InlineData(ExampleDigest)]
    [InlineData("48FC78BE9EC8F86D8CE1C39C320C97C21D62334D")]
    public void The_xep_example_digest_verifies_in_either_case(string digest) =>
        Assert.True(LegacyAuthDigest.Verify(StreamId, Password, digest));

    [Theory]
    [InlineData("48fc78be9ec8f86d8ce1c39c320c97c21d62334e")]
    [InlineData("48fc78be9ec8f86d8ce1c39c320c97c21d62334")]
    [InlineData("48fc78be9ec8f86d8ce1c39c320c97c21d62334d00")]
    [InlineData("zzfc78be9ec8f86d8ce1c39c320c97c21d62334d")]
    [InlineData("")]
    public void A_wrong_or_malformed_digest_does_not_verify(string digest) =>
        Assert.False(LegacyAuthDigest.Verify(StreamId, Password, digest));

    [Fact]
    public void The_same_password_on_another_stream_gives_another_digest() =>
        Assert.False(LegacyAuthDigest.Verify("3EE948B1", Password, ExampleDigest));

    [Fact]
    public void The_password_is_kept_only_when_asked_for()
    {
        Assert.Null(SaslCredentialDeriver.Derive("1101", "Calli0pe", ["mmss.example"], iterations: 1).LegacyDigestPassword);
        var kept = SaslCredentialDeriver.Derive("1101", "Calli0pe", ["mmss.example"], iterations: 1, keepLegacyDigestPassword: true);
        Assert.True(LegacyAuthDigest.Verify(StreamId, kept.LegacyDigestPassword, ExampleDigest));
    }
}
