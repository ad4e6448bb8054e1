using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Mmss.Silo.Cluster;
using Mmss.Silo.Diagnostics;
using Mmss.Silo.Health;

namespace Mmss.Silo;

/// <summary>
/// The cluster deployment's silo: grains only, no XMPP (the gateways are Orleans clients), state in PostgreSQL.
/// <c>migrate</c> as the first argument applies the schema and exits; without it the silo applies the schema, joins
/// the cluster and serves the orchestration probes until SIGTERM, on which it leaves the cluster gracefully.
/// </summary>
public static class SiloProgram
{
    private const int ExitConfiguration = 2;
    private const int ExitFailure = 1;

    /// <summary>Orleans' graceful stop deactivates every grain (writing state) and hands the silo's ranges over.</summary>
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(60);

    public static async Task<int> Main(string[] args)
    {
        var migrateOnly = args.Length > 0 && args[0] == "migrate";
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = migrateOnly ? args[1..] : args });

        // Every section is checked before reporting, so that one start lists every bad setting.
        var problems = new List<string>();
        var cluster = Checked(problems, () => ClusterConfiguration.ReadCluster(builder.Configuration, "mmss-silo"));
        if (!migrateOnly) Checked(problems, () => ClusterConfiguration.ReadEndpoints(builder.Configuration));
        var health = builder.Configuration.GetSection(MmssHealthOptions.Section).Get<MmssHealthOptions>() ?? new MmssHealthOptions();
        var healthAddress = migrateOnly ? IPAddress.Any : Checked(problems, () => ReadHealthAddress(health));
        var metrics = Checked(problems, () => MetricsOptions.Read(builder.Configuration));
        Checked(problems, () => builder.Logging.AddMmssLogFormat(builder.Configuration));
        if (problems.Count > 0)
        {
            foreach (var problem in problems)
            {
                await Console.Error.WriteLineAsync($"Configuration error: {problem} (as environment variables, '__' replaces ':', e.g. Mmss__Cluster__ConnectionString)");
            }
            return ExitConfiguration;
        }

        using (var loggers = LoggerFactory.Create(logging => logging.AddConfiguration(builder.Configuration.GetSection("Logging")).AddSimpleConsole().AddMmssLogFormat(builder.Configuration)))
        {
            var logger = loggers.CreateLogger("Mmss.Schema");
            try
            {
                await PostgresSchema.MigrateWhenReachableAsync(cluster!.ConnectionString!, TimeSpan.FromSeconds(cluster.StartupWaitSeconds), logger);
            }
            catch (Exception e)
            {
                logger.LogCritical(e, "Applying the schema to the cluster database failed");
                return ExitFailure;
            }
        }
        if (migrateOnly) return 0;

        builder.Services.Configure<HostOptions>(options =>
        {
            options.ShutdownTimeout = ShutdownTimeout;
            // The web server is started after the silo otherwise, and joining a cluster can take a while: the liveness
            // probe must answer meanwhile, and readiness say 503 rather than nothing.
            options.ServicesStartConcurrently = true;
        });
        builder.UseOrleans(silo => silo.UseMmssCluster(builder.Configuration).UseMmssKubernetesHostingIfPresent());
        builder.Services.AddMmssMetrics(metrics!);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(healthAddress!, health.Port));

        var app = builder.Build();
        app.MapSiloHealth();
        app.MapMmssMetrics(metrics!);
        app.Logger.LogInformation("Health endpoints on {Address}:{Port} (/health/live, /health/ready{Metrics})", healthAddress, health.Port,
            metrics!.Enabled ? ", " + MetricsExtensions.Path : "");
        await app.RunAsync();
        return 0;
    }

    private static T? Checked<T>(List<string> problems, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (OptionsValidationException e)
        {
            problems.AddRange(e.Failures);
            return default;
        }
    }

    private static IPAddress ReadHealthAddress(MmssHealthOptions health)
    {
        var problems = new List<string>();
        if (!IPAddress.TryParse(health.BindAddress, out var address))
            problems.Add($"{MmssHealthOptions.Section}:{nameof(MmssHealthOptions.BindAddress)} '{health.BindAddress}' is not an IP address");
        if (health.Port is < 1 or > 65535)
            problems.Add($"{MmssHealthOptions.Section}:{nameof(MmssHealthOptions.Port)} must be between 1 and 65535");
        if (problems.Count > 0) throw new OptionsValidationException(MmssHealthOptions.Section, typeof(MmssHealthOptions), problems);
        return address!;
    }
}
