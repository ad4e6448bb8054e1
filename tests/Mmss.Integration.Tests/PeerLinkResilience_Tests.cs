using Microsoft.Extensions.Logging.Abstractions;
using Mmss.Gateway.Relay;
using Polly.CircuitBreaker;

namespace Mmss.Integration.Tests;

/// <summary>The per-peer retry and circuit breaker a gateway carries relay batches through.</summary>
public class PeerLinkResilience_Tests
{
    [Fact]
    public async Task A_batch_that_fails_once_is_sent_again_at_once_and_goes_through()
    {
        var resilience = new PeerLinkResilience(NullLogger<PeerLinkResilience>.Instance);
        var attempts = 0;
        await resilience.For("198.51.100.8").ExecuteAsync(_ =>
        {
            if (++attempts == 1) throw new IOException("connection reset by peer");
            return ValueTask.CompletedTask;
        });
        Assert.Equal(2, attempts);
    }

    [Fact]
    public async Task A_peer_that_keeps_failing_opens_its_circuit_and_later_batches_fail_fast_without_trying_while_other_peers_are_tried()
    {
        var resilience = new PeerLinkResilience(NullLogger<PeerLinkResilience>.Instance);
        var attempts = 0;
        ValueTask Failing(CancellationToken _)
        {
            attempts++;
            throw new IOException("connection refused");
        }
        // Three attempts per batch (one and two retries): the fourth failure reaches the breaker's minimum throughput.
        await Assert.ThrowsAsync<IOException>(() => resilience.For("dead.test").ExecuteAsync(Failing).AsTask());
        await Assert.ThrowsAnyAsync<Exception>(() => resilience.For("dead.test").ExecuteAsync(Failing).AsTask());
        var before = attempts;
        await Assert.ThrowsAsync<BrokenCircuitException>(() => resilience.For("dead.test").ExecuteAsync(Failing).AsTask());
        Assert.Equal(before, attempts);

        var other = 0;
        await resilience.For("alive.test").ExecuteAsync(_ => { other++; return ValueTask.CompletedTask; });
        Assert.Equal(1, other);
    }
}
