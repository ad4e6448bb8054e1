namespace Mmss.Faults;

/// <summary>
/// One MMS of the workload as the ledger has it: <paramref name="Acked"/> when its sender got an ACK; when it went to its
/// terminal and when its first answer came, if they did.
/// </summary>
public sealed record SentMessage(string Id, string Sender, IReadOnlyList<string> Recipients, bool ToGroup, bool Acked,
    DateTime? SubmittedAt, DateTime? AnsweredAt)
{
    /// <summary>Whether the MMS was between its submission and its answer at some moment of [from, to].</summary>
    public bool InFlightDuring(DateTime from, DateTime to) => SubmittedAt is { } submitted && submitted <= to && (AnsweredAt ?? DateTime.MaxValue) >= from;
}
