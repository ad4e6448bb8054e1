using Mmss.Gateway.Streams;
using Mmss.Protocol.Xmpp;

namespace Mmss.Integration.Tests;

/// <summary>
/// The reading half of XEP-0138 on its own: what zlib refuses must end the stream with a stream error (XEP-0138 §6),
/// which the connection sends; an IOException would pass for a dropped transport and end it silently.
/// </summary>
public class InflatingStream_Tests
{
    private static async Task<XmppStreamException> ReadFailsAsync(byte[] compressed)
    {
        await using var inflating = new InflatingStream(new MemoryStream(compressed), maxRatio: 100);
        return await Assert.ThrowsAsync<XmppStreamException>(async () =>
        {
            var buffer = new byte[4096];
            while (await inflating.ReadAsync(buffer) > 0)
            {
            }
        });
    }

    [Fact]
    public async Task A_stream_that_is_not_deflate_is_undefined_condition()
    {
        var error = await ReadFailsAsync([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        Assert.Equal(StreamErrorCondition.UndefinedCondition, error.Condition);
    }

    [Fact]
    public async Task A_stream_asking_for_a_preset_dictionary_is_undefined_condition()
    {
        // Found by tests/fuzz (target zlib): a zlib header with FDICT set (0x78 0xBB, then the dictionary's Adler-32)
        // makes the inflater throw zlib's own IOException, not InvalidDataException.
        var error = await ReadFailsAsync([0x78, 0xBB, 0x00, 0x00, 0x00, 0x01, 0x03, 0x00]);
        Assert.Equal(StreamErrorCondition.UndefinedCondition, error.Condition);
    }
}
