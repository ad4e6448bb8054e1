namespace Mmss.Integration.Tests.Infrastructure;

/// <summary>
/// A server for the emergency-priority tests: users from a seed file, one of them allowed to send emergencies, the
/// default stanza limit (large MMS saturate a slow terminal's connection), a small daily upload allowance, and events.
/// </summary>
public sealed class EmergencyServerFixture : IAsyncLifetime
{
    /// <summary>Seeded with <c>"emergency": true</c>.</summary>
    public const string Dispatcher = "1801";

    /// <summary>Seeded without the flag.</summary>
    public const string Unit = "1802";

    public const string Password = "pw";

    public const int DailyUploadBytes = 64 * 1024;

    public int MqttPort { get; } = FreePorts.Take(1)[0];

    public EmbeddedServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "mmss-emergency-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dataDirectory);
        var seed = Path.Combine(dataDirectory, "seed.json");
        await File.WriteAllTextAsync(seed, $$"""
            {"users":[{"udn":"{{Dispatcher}}","password":"{{Password}}","name":"Dispatcher","emergency":true},
                      {"udn":"{{Unit}}","password":"{{Password}}","name":"Unit"}]}
            """);
        Server = new EmbeddedServer(new Dictionary<string, string>
        {
            ["Mmss__Provisioning__SeedFile"] = seed,
            ["Mmss__Attachments__MaxDailyBytesPerUser"] = DailyUploadBytes.ToString(),
            ["Mmss__Mqtt__Enabled"] = "true",
            ["Mmss__Mqtt__BindAddress"] = "127.0.0.1",
            ["Mmss__Mqtt__Port"] = MqttPort.ToString(),
            ["Mmss__Mqtt__Username"] = MqttServerFixture.User,
            ["Mmss__Mqtt__Password"] = MqttServerFixture.Password,
        }, dataDirectory);
        await Server.StartAsync();
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
