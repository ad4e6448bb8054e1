using Mmss.GrainInterfaces;

namespace Mmss.Grains.Tests;

/// <summary>Which failures leave it open whether an MMS was stored (no FAIL 9 on them alone) and which say it was not.</summary>
public sealed class UnknownOutcome_Tests
{
    [Fact]
    public void A_commit_never_confirmed_a_timeout_and_a_silo_dying_with_the_call_pending_leave_the_outcome_unknown()
    {
        Assert.True(UnknownOutcome.Of(new StorageOutcomeUnknownException("lost while committing")));
        Assert.True(UnknownOutcome.Of(new TimeoutException("response timeout")));
        Assert.True(UnknownOutcome.Of(new SiloUnavailableException("the target silo became unavailable")));
    }

    [Fact]
    public void Wrapped_ones_count_too()
    {
        Assert.True(UnknownOutcome.Of(new OrleansException("storage provider failed", new StorageOutcomeUnknownException("lost"))));
        Assert.True(UnknownOutcome.Of(new AggregateException(new IOException("refused"), new TimeoutException("late"))));
    }

    [Fact]
    public void Refusals_say_nothing_was_stored()
    {
        Assert.False(UnknownOutcome.Of(new IOException("database or disk is full")));
        Assert.False(UnknownOutcome.Of(new Orleans.Runtime.Messaging.ConnectionFailedException("unable to connect to the silo")));
        Assert.False(UnknownOutcome.Of(new AggregateException(new IOException("refused"))));
        Assert.False(UnknownOutcome.Of(null));
    }
}
