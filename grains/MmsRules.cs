using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Mmss.GrainInterfaces;

namespace Mmss.Grains;

/// <summary>What makes an MMS acceptable, and what makes two submissions the same (spec 7.5, 8.1).</summary>
public static class MmsRules
{
    public const string AckType = "2";
    public const string FailType = "3";

    private static readonly string[] SmallNumbers = Enumerable.Range(0, 1000).Select(n => n.ToString(CultureInfo.InvariantCulture)).ToArray();

    /// <summary>
    /// One shared instance for a MsgType or ReturnCode (small numbers): an answered MMS stays in its recipient's mailbox
    /// for a day, and a string of its own per answer was memory the GC promoted at every round trip.
    /// </summary>
    [return: NotNullIfNotNull(nameof(code))]
    public static string? Shared(string? code) =>
        code is { Length: > 0 and <= 3 } && int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out var n) &&
        SmallNumbers[n] == code
            ? SmallNumbers[n]
            : code;

    /// <summary>One shared instance for each stanza type RFC 6121 defines (see <see cref="Shared"/>); any other as it is.</summary>
    public static string? SharedStanzaType(string? type) => type switch
    {
        "chat" => "chat",
        "normal" => "normal",
        "groupchat" => "groupchat",
        "headline" => "headline",
        _ => type,
    };

    /// <summary>Null when acceptable, else why it is malformed (FAIL 7).</summary>
    public static string? Validate(MmsSubmission submission)
    {
        if (submission.MsgType is null) return "MsgType is missing";
        if (!int.TryParse(submission.MsgType, NumberStyles.None, CultureInfo.InvariantCulture, out var type))
            return $"MsgType '{submission.MsgType}' is not a number";
        // spec 8.1: 1 is an MMS; 101-200 are vendor extensions, carried like an MMS.
        if (type != 1 && type is < 101 or > 200) return $"MsgType {type} is not a message to deliver";
        return null;
    }

    // One per thread and reused (GetHashAndReset leaves it ready): creating the OpenSSL digest context was most of the
    // hash's cost. The method never awaits, so no other caller can use it in between.
    [ThreadStatic] private static IncrementalHash? t_contentHash;

    public static byte[] ContentHash(MmsSubmission submission)
    {
        var hash = t_contentHash ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        // The bytes of "recipient\0msgType\0stanzaType\0" then the payload, hashed without building that string: this
        // runs for every MMS.
        try
        {
            AppendTerminated(hash, submission.Recipient);
            AppendTerminated(hash, submission.MsgType);
            AppendTerminated(hash, submission.StanzaType);
            hash.AppendData(submission.Payload);
            return hash.GetHashAndReset();
        }
        catch
        {
            // Half-fed: the next caller must not start from this state.
            t_contentHash = null;
            hash.Dispose();
            throw;
        }
    }

    private static void AppendTerminated(IncrementalHash hash, string? value)
    {
        value ??= "";
        var rented = value.Length > 64 ? ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(value.Length)) : null;
        Span<byte> buffer = rented ?? stackalloc byte[Encoding.UTF8.GetMaxByteCount(64)];
        hash.AppendData(buffer[..Encoding.UTF8.GetBytes(value, buffer)]);
        hash.AppendData("\0"u8);
        if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
    }

    public static IReadOnlyList<KeyValuePair<string, string>> NoticeProperties(string msgType, string? returnCode) =>
        returnCode is null
            ? [new("MsgType", msgType)]
            : [new("MsgType", msgType), new("ReturnCode", returnCode)];

    public static string NoticeSender(string msgType) => msgType == FailType ? "FAIL" : "ACK";

    /// <summary>FAIL 5's ReturnCode, as the recipient's answer it stands in for.</summary>
    public static readonly string ExpiredReturnCode = FailCode.Expired.ToString(CultureInfo.InvariantCulture);

    /// <summary>Relays a recipient's answer (or FAIL 5) to the MMS's originator: a notice from ACK or FAIL (spec 7.5.2).</summary>
    public static Task RelayAnswerAsync(this IUserGrain originator, string messageId, string msgType, string? returnCode, DateTimeOffset expiresAt) =>
        originator.NotifyAsync(messageId, NoticeSender(msgType), NoticeProperties(msgType, returnCode), expiresAt);
}
