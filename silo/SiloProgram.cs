using Microsoft.Extensions.Hosting;

namespace Mmss.Silo;

/// <summary>
/// A silo without a gateway. Today it runs the embedded configuration (localhost clustering, SQLite); the cluster
/// configuration (ADO.NET on PostgreSQL) is added with the Kubernetes deployment.
/// </summary>
public static class SiloProgram
{
    public static async Task Main(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        var dataDirectory = Path.GetFullPath(builder.Configuration["Mmss:DataDir"] ?? "data");
        builder.UseOrleans(silo => silo.UseMmssEmbedded(builder.Configuration, dataDirectory));
        await builder.Build().RunAsync();
    }
}
