using System.Diagnostics.Metrics;

namespace Mmss.Grains.Diagnostics;

/// <summary>
/// The grains' instruments (meter <c>Mmss.Grains</c>): each is recorded where the grain that owns the fact raises its
/// event, so a fact counts once in the cluster. Tag values are constants (a FAIL code from a terminal is mapped onto the
/// known codes), so recording allocates nothing and the series stay few.
/// </summary>
public static class MmssMetrics
{
    public const string MeterName = "Mmss.Grains";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> SubmittedCounter = Meter.CreateCounter<long>("mmss.mms.submitted", "{message}",
        "MMS accepted, by target (user or group)");
    private static readonly Counter<long> StoredCounter = Meter.CreateCounter<long>("mmss.mms.stored", "{copy}",
        "MMS copies stored for a recipient with no live session");
    private static readonly Counter<long> DeliveredCounter = Meter.CreateCounter<long>("mmss.mms.delivered", "{copy}",
        "MMS copies written to the recipient's live sessions (once per copy)");
    private static readonly Counter<long> AnsweredCounter = Meter.CreateCounter<long>("mmss.mms.answered", "{answer}",
        "Answers of recipients, by outcome (ACK/FAIL) and ReturnCode");
    private static readonly Counter<long> ExpiredCounter = Meter.CreateCounter<long>("mmss.mms.expired", "{copy}",
        "MMS copies unanswered past the TTL (FAIL 5 to the sender)");
    private static readonly Histogram<double> AnswerLatency = Meter.CreateHistogram<double>("mmss.mms.answer.duration", "s",
        "From an MMS copy's storing to the recipient's first answer",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600] });
    private static readonly Histogram<int> FanOut = Meter.CreateHistogram<int>("mmss.group.fanout", "{member}",
        "Copies of a group MMS (members but the sender)",
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] });
    private static readonly Counter<long> GroupResultCounter = Meter.CreateCounter<long>("mmss.group.results", "{message}",
        "Aggregated answers of group MMS to their senders, by outcome");
    private static readonly Histogram<int> MailboxDepth = Meter.CreateHistogram<int>("mmss.mailbox.depth", "{item}",
        "Items in a user's mailbox when one is added",
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000] });

    private static readonly KeyValuePair<string, object?> ToUser = new("target", "user");
    private static readonly KeyValuePair<string, object?> ToGroup = new("target", "group");
    private static readonly KeyValuePair<string, object?> Ack = new("outcome", "ACK");
    private static readonly KeyValuePair<string, object?> Fail = new("outcome", "FAIL");

    public static void Submitted(bool group) => SubmittedCounter.Add(1, group ? ToGroup : ToUser);

    public static void Stored() => StoredCounter.Add(1);

    public static void Delivered() => DeliveredCounter.Add(1);

    public static void Answered(string msgType, string? returnCode) =>
        AnsweredCounter.Add(1, msgType == "2" ? Ack : Fail, ReturnCodeTag(returnCode));

    public static void AnsweredAfter(TimeSpan elapsed) => AnswerLatency.Record(Math.Max(0, elapsed.TotalSeconds));

    public static void Expired() => ExpiredCounter.Add(1);

    public static void GroupFannedOut(int copies) => FanOut.Record(copies);

    public static void GroupResult(string msgType, string? returnCode) =>
        GroupResultCounter.Add(1, msgType == "2" ? Ack : Fail, ReturnCodeTag(returnCode));

    public static void MailboxHolds(int items) => MailboxDepth.Record(items);

    /// <summary>The codes of spec 7.5.2 and the project's FAIL table as constant tags; anything else is "other".</summary>
    public static KeyValuePair<string, object?> ReturnCodeTag(string? returnCode) => returnCode switch
    {
        null or "" => CodeTags[0],
        "1" => CodeTags[1],
        "2" => CodeTags[2],
        "3" => CodeTags[3],
        "4" => CodeTags[4],
        "5" => CodeTags[5],
        "6" => CodeTags[6],
        "7" => CodeTags[7],
        "8" => CodeTags[8],
        "9" => CodeTags[9],
        "255" => CodeTags[10],
        _ => CodeTags[11],
    };

    private static readonly KeyValuePair<string, object?>[] CodeTags =
        [.. new[] { "none", "1", "2", "3", "4", "5", "6", "7", "8", "9", "255", "other" }.Select(code => new KeyValuePair<string, object?>("code", code))];
}
