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

    public static byte[] ContentHash(MmsSubmission submission)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{submission.Recipient}\0{submission.MsgType}\0{submission.StanzaType}\0"));
        hash.AppendData(submission.Payload);
        return hash.GetHashAndReset();
    }

    public static IReadOnlyList<KeyValuePair<string, string>> NoticeProperties(string msgType, string? returnCode) =>
        returnCode is null
            ? [new("MsgType", msgType)]
            : [new("MsgType", msgType), new("ReturnCode", returnCode)];

    public static string NoticeSender(string msgType) => msgType == FailType ? "FAIL" : "ACK";
}
