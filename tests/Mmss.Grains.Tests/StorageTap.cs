using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Storage;

namespace Mmss.Grains.Tests;

/// <summary>
/// What tests observe of, and inject into, one cluster's storage: the writes of every silo's grain storage and
/// mailbox store, and mailbox loads and appends to fail. One per fixture, shared by the decorators of all its silos.
/// </summary>
public sealed class StorageTap
{
    private readonly ConcurrentDictionary<string, byte> _failNextLoad = new();

    /// <summary>The owner's next mailbox load, on whichever silo, throws.</summary>
    public void FailNextLoad(string owner) => _failNextLoad[owner] = 0;

    internal bool TakeLoadFailure(string owner) => _failNextLoad.TryRemove(owner, out _);

    private readonly ConcurrentDictionary<string, int> _appendFailures = new();

    /// <summary>The next entry stored in the owner's mailbox, on whichever silo, fails.</summary>
    public void FailNextAppend(string owner) => FailAppends(owner, 1);

    /// <summary>The next <paramref name="times"/> entries stored in the owner's mailbox fail: an outage of some length.</summary>
    public void FailAppends(string owner, int times) => _appendFailures[owner] = times;

    public void StopFailingAppends(string owner) => _appendFailures.TryRemove(owner, out _);

    internal bool TakeAppendFailure(string owner)
    {
        while (_appendFailures.TryGetValue(owner, out var left))
        {
            if (left <= 1 ? _appendFailures.TryRemove(new KeyValuePair<string, int>(owner, left)) : _appendFailures.TryUpdate(owner, left - 1, left))
                return true;
        }
        return false;
    }

    private readonly ConcurrentDictionary<string, byte> _loseNextAppendOutcome = new();

    /// <summary>The next entry stored in the owner's mailbox is stored, but its caller hears the outcome is unknown.</summary>
    public void LoseNextAppendOutcome(string owner) => _loseNextAppendOutcome[owner] = 0;

    internal bool TakeLostAppendOutcome(string owner) => _loseNextAppendOutcome.TryRemove(owner, out _);

    private readonly ConcurrentDictionary<string, TaskCompletionSource> _heldAppends = new();
    private readonly ConcurrentDictionary<string, int> _appendsHeld = new();

    /// <summary>
    /// Entries stored in the owner's mailbox from now on are written, but their callers hear so only after
    /// <see cref="ReleaseAppends"/>: a slow commit, during which the tests see how many callers wait.
    /// </summary>
    public void HoldAppends(string owner) => _heldAppends[owner] = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void ReleaseAppends(string owner)
    {
        if (_heldAppends.TryRemove(owner, out var gate)) gate.TrySetResult();
    }

    /// <summary>Callers whose append to the owner's mailbox is written and held.</summary>
    public int AppendsHeld(string owner) => _appendsHeld.GetValueOrDefault(owner);

    internal async Task WaitWhileAppendsHeldAsync(string owner)
    {
        if (!_heldAppends.TryGetValue(owner, out var gate)) return;
        _appendsHeld.AddOrUpdate(owner, 1, (_, n) => n + 1);
        try
        {
            await gate.Task;
        }
        finally
        {
            _appendsHeld.AddOrUpdate(owner, 0, (_, n) => n - 1);
        }
    }

    private readonly ConcurrentDictionary<string, byte> _failNextGrainWrite = new();
    private readonly ConcurrentDictionary<string, int> _grainWritesByKey = new();

    /// <summary>The next state write of the grain with this key (its string key), on whichever silo, fails.</summary>
    public void FailNextGrainWrite(string grainKey) => _failNextGrainWrite[grainKey] = 0;

    internal bool TakeGrainWriteFailure(string grainKey) => _failNextGrainWrite.TryRemove(grainKey, out _);

    /// <summary>State writes of the grain with this key that storage took.</summary>
    public int GrainWritesOf(string grainKey) => _grainWritesByKey.GetValueOrDefault(grainKey);

    internal void CountGrainWriteOf(string grainKey) => _grainWritesByKey.AddOrUpdate(grainKey, 1, (_, n) => n + 1);

    private readonly ConcurrentDictionary<string, int> _writesStartedByKey = new();

    /// <summary>
    /// Writes begun for the grains whose string keys and the mailboxes whose owners <paramref name="involved"/> names:
    /// what one flow costs, without the writes that other tests' grains make behind at the same time on the shared cluster.
    /// </summary>
    public int WritesOf(Func<string, bool> involved) => _writesStartedByKey.Where(w => involved(w.Key)).Sum(w => w.Value);

    internal void CountGrainWrite(string grainKey) => _writesStartedByKey.AddOrUpdate(grainKey, 1, (_, n) => n + 1);

    internal void CountMailboxWrite(string owner) => _writesStartedByKey.AddOrUpdate(owner, 1, (_, n) => n + 1);

    /// <summary>
    /// Replaces the registrations of the grain storage <paramref name="storageName"/> and of <see cref="IMailboxStore"/>
    /// (as the provider's own extension method made them) by decorators around what they create.
    /// </summary>
    public void Decorate(IServiceCollection services, string storageName)
    {
        var storage = services.LastOrDefault(d => d.IsKeyedService && d.ServiceType == typeof(IGrainStorage) && Equals(d.ServiceKey, storageName))
            ?? throw new InvalidOperationException($"no grain storage named {storageName} is registered");
        services.Remove(storage);
        services.AddKeyedSingleton<IGrainStorage>(storageName, (provider, key) => new CountingGrainStorage(CreateKeyed<IGrainStorage>(storage, provider, key), this));

        var mailbox = services.LastOrDefault(d => !d.IsKeyedService && d.ServiceType == typeof(IMailboxStore))
            ?? throw new InvalidOperationException("no mailbox store is registered");
        services.RemoveAll<IMailboxStore>();
        services.AddSingleton<IMailboxStore>(provider => mailbox.ImplementationInstance is IMailboxStore instance
            ? new TappedMailboxStore(instance, this, ownsInner: false)
            : new TappedMailboxStore(Create<IMailboxStore>(mailbox, provider), this, ownsInner: true));
    }

    private static T Create<T>(ServiceDescriptor descriptor, IServiceProvider provider) =>
        (T)(descriptor.ImplementationFactory?.Invoke(provider)
            ?? ActivatorUtilities.CreateInstance(provider, descriptor.ImplementationType
                ?? throw new InvalidOperationException($"cannot decorate the registration of {typeof(T).Name}")));

    private static T CreateKeyed<T>(ServiceDescriptor descriptor, IServiceProvider provider, object? key) =>
        (T)(descriptor.KeyedImplementationInstance
            ?? descriptor.KeyedImplementationFactory?.Invoke(provider, key)
            ?? ActivatorUtilities.CreateInstance(provider, descriptor.KeyedImplementationType
                ?? throw new InvalidOperationException($"cannot decorate the registration of {typeof(T).Name}")));
}
