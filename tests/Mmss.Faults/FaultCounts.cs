namespace Mmss.Faults;

/// <summary>What one fault loop measured; <see cref="Passed"/> is the harness's verdict.</summary>
public sealed class FaultCounts
{
    public required string Fault { get; init; }
    public int Sent { get; set; }
    public int CopiesDue { get; set; }
    public int Delivered { get; set; }
    public int RedeliveredBeforeAck { get; set; }
    public int DuplicatedAfterAck { get; set; }
    public int Lost { get; set; }
    public int DeliveredThoughRefused { get; set; }
    public int LeftPending { get; set; }
    public int AnswersReceived { get; set; }
    public int AnswersMissing { get; set; }
    public int AnswersRepeated { get; set; }
    public int Resent { get; set; }
    public SortedDictionary<string, int> AnswersByCode { get; } = new(StringComparer.Ordinal);

    /// <summary>The fault's own figures and checks (kills done, cuts noticed by the server's ping, FAIL 9 while full...).</summary>
    public List<string> Notes { get; } = [];

    public List<string> Failures { get; } = [];

    public bool Passed => Lost == 0 && DuplicatedAfterAck == 0 && AnswersMissing == 0 && LeftPending == 0 && DeliveredThoughRefused == 0
                          && Failures.Count == 0;

    public void Print(TextWriter output)
    {
        output.WriteLine($"{(Passed ? "PASS" : "FAIL")}  {Fault}: sent {Sent}, copies due {CopiesDue}, delivered {Delivered}, " +
                         $"redelivered before ACK {RedeliveredBeforeAck}, duplicated after ACK {DuplicatedAfterAck}, lost {Lost}, " +
                         $"left pending {LeftPending}, delivered though refused {DeliveredThoughRefused}; answers received {AnswersReceived} " +
                         $"({string.Join(", ", AnswersByCode.Select(p => $"{p.Key}: {p.Value}"))}), missing {AnswersMissing}, " +
                         $"repeated {AnswersRepeated}; MMS resent after reconnection {Resent}");
        foreach (var note in Notes) output.WriteLine($"      {note}");
        foreach (var failure in Failures) output.WriteLine($"      failed: {failure}");
    }
}
