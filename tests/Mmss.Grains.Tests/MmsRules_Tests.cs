using System.Security.Cryptography;
using System.Text;
using Mmss.GrainInterfaces;

namespace Mmss.Grains.Tests;

public class MmsRules_Tests
{
    [Theory]
    [InlineData("b1", "1", null)]
    [InlineData("ünïcödé-recipient-name-longer-than-sixty-four-characters-to-take-the-pooled-buffer", "101", "chat")]
    public void Content_hash_is_sha256_of_recipient_msgtype_stanzatype_then_payload(string recipient, string msgType, string? stanzaType)
    {
        // Stored hashes are compared with new submissions: the bytes hashed must never change.
        var payload = Encoding.UTF8.GetBytes("<body>hello</body>");
        var expected = SHA256.HashData([.. Encoding.UTF8.GetBytes($"{recipient}\0{msgType}\0{stanzaType}\0"), .. payload]);
        Assert.Equal(expected, MmsRules.ContentHash(new MmsSubmission("m", "a", recipient, msgType, stanzaType, payload)));
    }
}
