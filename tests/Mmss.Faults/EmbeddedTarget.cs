using System.Net;
using Mmss.Integration.Tests.Infrastructure;

namespace Mmss.Faults;

/// <summary>The embedded server (one process, SQLite), provisioned by a seed file.</summary>
public sealed class EmbeddedTarget(EmbeddedServer server, string seedFile) : IMmssTarget
{
    public EmbeddedServer Server { get; } = server;

    public string Domain => Server.Host;

    public IPEndPoint NextC2sEndpoint() => new(IPAddress.Parse(Server.Host), Server.C2sPort);

    /// <param name="dataDirectory">null for a fresh temporary one</param>
    public static async Task<EmbeddedTarget> StartAsync(IReadOnlyDictionary<string, string> settings, string? dataDirectory)
    {
        var seedFile = Path.Combine(Path.GetTempPath(), $"mmss-faults-seed-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(seedFile, Population.SeedJson());
        var server = new EmbeddedServer(new Dictionary<string, string>(settings) { ["Mmss__Provisioning__SeedFile"] = seedFile }, dataDirectory);
        await server.StartAsync();
        return new EmbeddedTarget(server, seedFile);
    }

    /// <summary>kill -9, then a start on the same data directory and ports; returns the seconds until healthy.</summary>
    public async Task<double> KillAndRestartAsync()
    {
        await Server.KillAsync();
        var started = DateTime.UtcNow;
        await Server.StartAsync();
        return (DateTime.UtcNow - started).TotalSeconds;
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        File.Delete(seedFile);
    }
}
