namespace Mmss.Gateway.Messaging;

/// <summary>
/// A bound on the grain calls a terminal's stanzas wait for (submitting an MMS, recording an answer) and on session
/// resynchronisation. Orleans answers or times out every call within its response timeout (30 s); but in the cluster
/// fault loop, right after a silo's death and restart (with Orleans' distributed grain directory, tried and reverted),
/// some calls were neither answered nor timed out for minutes: the MMS they carried waited until their senders logged
/// in again and sent them anew, and a resynchronisation pass held every later one. Whatever the cause, a call never
/// answered must not hold an MMS. Past this bound the call counts as failed and the caller's retry goes on; a late outcome of the
/// abandoned call does no harm, the calls being idempotent. Its cost is a timer and a small allocation per call, small
/// beside the grain call itself (not measured apart).
/// </summary>
public static class BoundedGrainCall
{
    /// <summary>Longer than Orleans' response timeout, so that its own timeout normally fires first.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(45);

    public static Task<T> Bounded<T>(Task<T> call) => call.WaitAsync(Bound);

    public static Task Bounded(Task call) => call.WaitAsync(Bound);
}
