using System.Diagnostics;
using System.Text.Json;

namespace Mmss.Faults;

/// <summary>
/// Debian's mosquitto_sub on the same topics as the <see cref="EventSubscriber"/> (libmosquitto reconnects and
/// subscribes again by itself after an outage, about a second later): a second client, not .NET. An event missing at
/// one subscriber but not at the other did reach the broker and was lost on its way to that subscriber (in the client,
/// or in the socket of the broker killed); one missing at both was lost in the broker or before it.
/// </summary>
public sealed class WitnessSubscriber : IAsyncDisposable
{
    private readonly Process _process;
    private readonly HashSet<(string Type, string? MessageId, string? Recipient)> _seen = [];

    private WitnessSubscriber(Process process) => _process = process;

    public static WitnessSubscriber Start(int port, string filter)
    {
        var start = new ProcessStartInfo("mosquitto_sub", ["-h", "127.0.0.1", "-p", port.ToString(), "-q", "1", "-v", "-t", filter])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var witness = new WitnessSubscriber(Process.Start(start) ?? throw new InvalidOperationException("could not start mosquitto_sub"));
        witness._process.OutputDataReceived += (_, e) => witness.Read(e.Data);
        witness._process.ErrorDataReceived += (_, _) => { };
        witness._process.BeginOutputReadLine();
        witness._process.BeginErrorReadLine();
        return witness;
    }

    public bool Saw(string type, string messageId, string? recipient)
    {
        lock (_seen) return recipient is null ? _seen.Any(s => s.Type == type && s.MessageId == messageId) : _seen.Contains((type, messageId, recipient));
    }

    private void Read(string? line)
    {
        var space = line?.IndexOf(' ') ?? -1;
        if (space < 0) return;
        try
        {
            using var json = JsonDocument.Parse(line![(space + 1)..]);
            var root = json.RootElement;
            string? Text(string name) => root.TryGetProperty(name, out var value) ? value.ToString() : null;
            lock (_seen) _seen.Add((Text("type") ?? "", Text("id"), Text("recipient") ?? Text("gdn") ?? Text("group")));
        }
        catch (JsonException)
        {
            // Not one of the server's documents.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
