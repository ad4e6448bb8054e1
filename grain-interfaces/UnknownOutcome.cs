namespace Mmss.GrainInterfaces;

/// <summary>
/// Failures after which what was asked may have been done all the same: a storage commit never confirmed, a call that
/// timed out, a call whose target silo died while it was pending (it may have stored before dying). A caller may not
/// take these for "nothing stored" — a FAIL 9 on them can be a lie — unlike a refusal (a full disk, a database
/// refusing connections, a message Orleans rejected before delivering it).
/// </summary>
public static class UnknownOutcome
{
    /// <summary>Whether this failure, or one it wraps (a grain call's, a task's), leaves the outcome unknown.</summary>
    public static bool Of(Exception? failure)
    {
        for (var e = failure; e is not null; e = e.InnerException)
        {
            if (e is StorageOutcomeUnknownException or TimeoutException or SiloUnavailableException) return true;
            if (e is AggregateException aggregate && aggregate.InnerExceptions.Any(Of)) return true;
        }
        return false;
    }
}
