namespace Mmss.Gateway.Messaging;

/// <summary>
/// A bound on the grain calls the gateway makes again after a failure (an MMS submission, a terminal's answer) and on
/// session resynchronisation. Orleans answers or times out every call within its response timeout (30 s); but in the
/// cluster fault loop, right after a silo's death and restart (with Orleans' distributed grain directory, tried and
/// reverted), some calls were neither answered nor timed out for minutes: the MMS they carried waited until their
/// senders logged in again and sent them anew, and a resynchronisation pass held every later one. Past this bound the
/// call counts as failed and the caller's retry goes on; a late outcome of the abandoned call does no harm, the calls
/// being idempotent. First attempts are left to Orleans' own timeout, which held in every run with the default
/// directory: a timer per call cost the hot path 3–7% of its CPU per round trip in an interleaved A/B.
/// </summary>
public static class BoundedGrainCall
{
    /// <summary>Longer than Orleans' response timeout, so that its own timeout normally fires first.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(45);

    public static Task<T> Bounded<T>(Task<T> call) => call.WaitAsync(Bound);

    public static Task Bounded(Task call) => call.WaitAsync(Bound);
}
