namespace Mmss.Integration.Tests.Infrastructure;

/// <summary>One embedded server shared by a test collection, with a few users provisioned.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public EmbeddedServer Server { get; } = new(new Dictionary<string, string>
    {
        ["Mmss__C2s__MaxStanzaBytes"] = "65536",
        ["Mmss__C2s__MaxAuthFailuresPerUser"] = "8",
        ["Mmss__Attachments__MaxFileBytes"] = (4 * 1024 * 1024).ToString(),
        ["Mmss__Attachments__MaxFilesPerMessage"] = "3",
        ["Mmss__Attachments__MaxDailyBytesPerUser"] = (8 * 1024 * 1024).ToString(),
        ["Mmss__Attachments__MaxRequestBytes"] = (13 * 1024 * 1024).ToString(),
        ["Mmss__Mailbox__AttachmentGraceSeconds"] = "2",
    });

    public async Task InitializeAsync()
    {
        await Server.StartAsync();
        await Server.ProvisionUserAsync("1101", "pw-1101");
        await Server.ProvisionUserAsync("1102", "pw-1102");
        await Server.ProvisionUserAsync("1103", "pw-1103");
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "embedded server";
}
