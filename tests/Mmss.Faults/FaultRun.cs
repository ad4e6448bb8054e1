using System.Net;
using Mmss.Protocol.Xmpp;

namespace Mmss.Faults;

/// <summary>
/// One fault loop's world: the MMSS under test, terminals logged in through their own <see cref="HalfOpenProxy"/>,
/// and a steady MMS workload (one-to-one and to talk groups) recorded in a <see cref="Ledger"/>.
/// </summary>
public sealed class FaultRun : IAsyncDisposable
{
    private readonly FaultOptions _options;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _running = [];
    private readonly Random _random;
    private readonly Random _faultRandom;
    private readonly AttachmentTraffic? _attachments;

    private FaultRun(string fault, FaultOptions options, IMmssTarget target, AttachmentTraffic? attachments)
    {
        Fault = fault;
        _options = options;
        Target = target;
        _attachments = attachments;
        _random = new Random(options.Seed);
        _faultRandom = new Random(_random.Next());
        Terminals = Enumerable.Range(0, Population.UserCount).Select(i => new Terminal(Population.Udn(i), Population.Password, target.Domain,
            new HalfOpenProxy(target.NextC2sEndpoint), Ledger)).ToArray();
    }

    public string Fault { get; }
    public IMmssTarget Target { get; }
    public Terminal[] Terminals { get; }
    public Ledger Ledger { get; } = new();

    /// <summary>Message ids are the fault's name and a sequence number.</summary>
    public string Id(int sequence) => $"{Fault}-{sequence}";

    /// <summary>The settings of every MMSS process of a run: plaintext logins for the load, a short keepalive.</summary>
    public static Dictionary<string, string> Settings(FaultOptions options) => new()
    {
        ["Mmss__C2s__AllowPlaintext"] = "true",
        // Short, so that a half-open link is noticed within seconds.
        ["Mmss__C2s__IdleSecondsBeforePing"] = options.IdleSecondsBeforePing.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Mmss__C2s__PingTimeoutSeconds"] = options.PingTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Logging__LogLevel__Default"] = "Warning",
    };

    /// <summary>Takes ownership of <paramref name="target"/>, started already; returns once every terminal is logged in.</summary>
    /// <param name="attachments">uploads an attachment for some of the MMS (which then name it), or null for none</param>
    public static async Task<FaultRun> StartAsync(string fault, FaultOptions options, IMmssTarget target, AttachmentTraffic? attachments = null)
    {
        var run = new FaultRun(fault, options, target, attachments);
        try
        {
            foreach (var terminal in run.Terminals) run._running.Add(terminal.RunAsync(run._stop.Token));
            await WaitAsync(() => run.Terminals.All(t => t.IsLoggedIn), TimeSpan.FromSeconds(120), "the terminals to log in");
            return run;
        }
        catch
        {
            await run.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Runs the workload while <paramref name="fault"/> injects its faults, lets everything settle, checks what is left
    /// stored with a fresh login of every terminal, and counts.
    /// </summary>
    public async Task<FaultCounts> RunAsync(Func<FaultRun, List<string>, List<string>, Task> fault)
    {
        var notes = new List<string>();
        var failures = new List<string>();
        var injecting = fault(this, notes, failures);
        await GenerateAsync(injecting);
        await injecting;
        var settled = await WaitAsync(Ledger.Settled, TimeSpan.FromSeconds(_options.SettleSeconds));
        if (!settled)
        {
            failures.Add($"not settled within {_options.SettleSeconds} s: answers or copies still missing " +
                         $"({DateTime.UtcNow:HH:mm:ss} UTC), e.g. {string.Join("; ", Ledger.Unsettled(5))}");
        }
        await FinalCheckAsync();
        var counts = Ledger.Count(Fault);
        counts.Notes.AddRange(notes);
        counts.Failures.AddRange(failures);
        return counts;
    }

    /// <summary>
    /// The steady workload: <see cref="FaultOptions.Messages"/> MMS at <see cref="FaultOptions.Rate"/> per second, more
    /// while the faults are still being injected (a cluster's restarts take longer than a short run's workload); a quarter
    /// of them to the sender's talk group, the others to another user; terminals that are offline send theirs at login.
    /// An MMS that carries an attachment is sent once its upload is over (naming the file if it was accepted), without
    /// holding up the ones after it.
    /// </summary>
    private async Task GenerateAsync(Task injecting)
    {
        var uploading = new List<Task>();
        var interval = TimeSpan.FromSeconds(1.0 / _options.Rate);
        var started = DateTime.UtcNow;
        for (var sequence = 0; sequence < _options.Messages || !injecting.IsCompleted; sequence++)
        {
            var next = started + interval * sequence;
            if (next > DateTime.UtcNow) await Task.Delay(next - DateTime.UtcNow);
            var senderIndex = _random.Next(Population.UserCount);
            var sender = Terminals[senderIndex];
            var group = Population.GroupOf(senderIndex);
            var toGroup = _random.Next(4) == 0;
            string to;
            List<string> recipients;
            if (toGroup)
            {
                to = Population.Gdn(group);
                recipients = Population.Members(group).Where(i => i != senderIndex).Select(Population.Udn).ToList();
            }
            else
            {
                var recipientIndex = (senderIndex + 1 + _random.Next(Population.UserCount - 1)) % Population.UserCount;
                to = Population.Udn(recipientIndex);
                recipients = [to];
            }
            var id = Id(sequence);
            Ledger.Sent(id, sender.User, recipients, toGroup);
            if (_attachments is { } attachments && attachments.Carries(sequence))
            {
                uploading.Add(SubmitWithAttachmentAsync(attachments, sender, id, to, recipients));
                continue;
            }
            Ledger.Submitted(id);
            await sender.SubmitAsync(id, Stanza(id, to, attach: null));
        }
        await Task.WhenAll(uploading);
    }

    private async Task SubmitWithAttachmentAsync(AttachmentTraffic attachments, Terminal sender, string id, string to, IReadOnlyList<string> recipients)
    {
        var file = await attachments.UploadAsync(sender.User, id, recipients);
        Ledger.Submitted(id);
        await sender.SubmitAsync(id, Stanza(id, to, file));
    }

    private string Stanza(string id, string to, string? attach) =>
        $"<message id='{id}' to='{to}@{Target.Domain}' type='chat'><properties xmlns='{Namespaces.JiveProperties}'><property><name>MsgType</name><value type='string'>1</value></property>" +
        (attach is null ? "" : $"<property><name>attach</name><value type='string'>{attach}</value></property>") +
        $"</properties><body>fault loop {id}</body></message>";

    /// <summary>
    /// Every terminal ends its stream and logs in afresh, twice. The first time the MMSS may still deliver a copy whose
    /// ACK it has not recorded yet (a gateway retries an answer a dead silo could not take for up to two minutes); it is
    /// counted as any redelivery and ACKed again. Whatever the second login still gets, every ACK having been sent on a
    /// live connection of a quiet server, was left pending.
    /// </summary>
    private async Task FinalCheckAsync()
    {
        await LogInAfreshAsync();
        foreach (var terminal in Terminals) terminal.FinalCheck = true;
        await LogInAfreshAsync();
    }

    private async Task LogInAfreshAsync()
    {
        var before = Terminals.Select(t => t.Connections).ToArray();
        foreach (var terminal in Terminals) await terminal.DisconnectAsync();
        await WaitAsync(() => Terminals.Select((t, i) => t.Connections > before[i] && t.IsLoggedIn).All(x => x), TimeSpan.FromSeconds(60),
            "the terminals to log in again for the final check");
        // The mailbox is written at login; give it the time a login's delivery takes on a loaded machine.
        await Task.Delay(TimeSpan.FromSeconds(_options.FinalCheckSeconds));
    }

    /// <summary>Waits for <paramref name="condition"/>; false on timeout, or an exception naming <paramref name="what"/> when given.</summary>
    public static async Task<bool> WaitAsync(Func<bool> condition, TimeSpan timeout, string? what = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                if (what is not null) throw new TimeoutException($"waited {timeout.TotalSeconds:0} s for {what}");
                return false;
            }
            await Task.Delay(100);
        }
        return true;
    }

    /// <summary>Waits until the workload has sent <paramref name="count"/> messages.</summary>
    public Task WaitForSentAsync(int count) => WaitAsync(() => Ledger.SentCount >= count, TimeSpan.FromHours(2), $"{count} messages sent");

    /// <summary>A random number for the fault's moments and targets (its own generator: the workload's runs concurrently).</summary>
    public int Random(int below)
    {
        lock (_faultRandom) return _faultRandom.Next(below);
    }

    /// <summary>
    /// When to inject each of <paramref name="count"/> faults, as numbers of messages sent: random, in order, leaving the
    /// workload's first twentieth and last sixth quiet (a fault there would find the terminals still logging in, or
    /// nothing left to disturb).
    /// </summary>
    public List<int> RandomMoments(int count) =>
        Enumerable.Range(0, count).Select(_ => _options.Messages / 20 + Random(Math.Max(1, _options.Messages * 4 / 5))).Order().ToList();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var terminal in Terminals) await terminal.Proxy.DisposeAsync();
        await Task.WhenAll(_running);
        await Target.DisposeAsync();
        _stop.Dispose();
    }
}
