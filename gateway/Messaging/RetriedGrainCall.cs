namespace Mmss.Gateway.Messaging;

/// <summary>
/// A bound on a grain call the gateway makes again after a failure. Orleans answers or times out every call within its
/// response timeout (30 s); but in the cluster fault loop, right after a silo's death, a retried submission was
/// neither answered nor timed out for four minutes, holding its MMS (and a session resynchronisation pass, which then
/// held every later one). Past this bound the attempt counts as failed and the caller's retry goes on; a late outcome
/// of the abandoned call does no harm, the calls being idempotent. First attempts stay unbounded: they are the hot
/// path, and a healthy cluster answers them.
/// </summary>
public static class RetriedGrainCall
{
    /// <summary>Longer than Orleans' response timeout, so that its own timeout normally fires first.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(45);

    public static Task<T> Bounded<T>(Task<T> call) => call.WaitAsync(Bound);

    public static Task Bounded(Task call) => call.WaitAsync(Bound);
}
