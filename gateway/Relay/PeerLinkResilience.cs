using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace Mmss.Gateway.Relay;

/// <summary>
/// How this gateway carries a batch to each peer: a failed hand-over or send is tried again at once, twice, with
/// jittered backoff (a reset connection, a peer restarting); a peer that keeps failing opens its circuit, and its
/// batches then fail fast back to the link grain, which keeps them stored and offers them again after its own longer
/// backoff (Mmss:Relay:MaxRetrySeconds) until the give-up window. One pipeline per peer: a dead peer slows no other.
/// Sending a batch again is safe: the peer deduplicates MMS by (sender, id) and an attachment hand-over replaces the file.
/// </summary>
public sealed class PeerLinkResilience(ILogger<PeerLinkResilience> logger)
{
    private readonly ConcurrentDictionary<string, ResiliencePipeline> _pipelines = new(StringComparer.OrdinalIgnoreCase);

    public ResiliencePipeline For(string domain) => _pipelines.GetOrAdd(domain, Build);

    private ResiliencePipeline Build(string domain) => new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            // An open circuit is the answer for now, not a failure to try again.
            ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not (OperationCanceledException or BrokenCircuitException)),
            MaxRetryAttempts = 2,
            BackoffType = DelayBackoffType.Exponential,
            Delay = TimeSpan.FromMilliseconds(250),
            UseJitter = true,
            OnRetry = args =>
            {
                logger.LogInformation("Link to {Peer}: attempt {Attempt} failed ({Reason}); trying again in {Delay}", domain,
                    args.AttemptNumber + 1, args.Outcome.Exception?.Message, args.RetryDelay);
                return default;
            },
        })
        .AddCircuitBreaker(new CircuitBreakerStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not OperationCanceledException),
            FailureRatio = 0.5,
            MinimumThroughput = 4,
            SamplingDuration = TimeSpan.FromSeconds(30),
            BreakDuration = TimeSpan.FromSeconds(5),
            OnOpened = args =>
            {
                logger.LogWarning("Link to {Peer}: circuit open for {Duration} after repeated failures ({Reason})", domain,
                    args.BreakDuration, args.Outcome.Exception?.Message);
                return default;
            },
            OnClosed = _ =>
            {
                logger.LogInformation("Link to {Peer}: circuit closed, the peer answers again", domain);
                return default;
            },
        })
        .Build();
}
