using System.Text;
using Mmss.GrainInterfaces;
using Orleans.Core.Internal;

namespace Mmss.Grains.Tests;

/// <summary>The embedded mode's storage, with its gateway in the silo's process: sessions end with the silo.</summary>
public sealed class EmbeddedSessionsFixture : SqliteClusterFixture
{
    protected override SessionDurability SessionDurability => SessionDurability.ProcessLocal;
}

[CollectionDefinition(Name)]
public sealed class EmbeddedSessionsCluster : ICollectionFixture<EmbeddedSessionsFixture>
{
    public const string Name = "two-silo cluster on SQLite, sessions local to the silo's process";
}

/// <summary>
/// In embedded mode a user grain writes its session list when it is deactivated, not at each login and logout
/// (<see cref="SessionDurability"/>).
/// </summary>
[Collection(EmbeddedSessionsCluster.Name)]
public sealed class EmbeddedSessions_Tests(EmbeddedSessionsFixture fixture)
{
    private IGrainFactory Grains => fixture.Cluster.Client;

    [Fact]
    public async Task Logins_and_logouts_write_no_state_and_a_grain_deactivated_with_a_live_session_still_delivers_to_it()
    {
        var observer = new RecordingObserver();
        var reference = Grains.CreateObjectReference<ISessionObserver>(observer);
        await Grains.GetGrain<IGatewayDirectoryGrain>(0).RefreshAsync("gw-emb");
        var user = Grains.GetGrain<IUserGrain>("emb-r");
        await user.ProvisionAsync("r", TestCredentials.Unusable);
        var written = fixture.Storage.GrainWritesOf("emb-r");
        for (var i = 0; i < 3; i++)
        {
            await user.AttachSessionAsync(new SessionHandle("gw-emb", $"gw-emb/{i}", reference, "10.0.0.9"));
            await user.DetachSessionAsync($"gw-emb/{i}");
        }
        await user.AttachSessionAsync(new SessionHandle("gw-emb", "gw-emb/9", reference, "10.0.0.9"));

        // A write queues behind one in flight, so had the logins or logouts written anything, the rename's write would
        // complete after at least one more.
        Assert.True(await user.RenameAsync("renamed"));
        Assert.Equal(written + 1, fixture.Storage.GrainWritesOf("emb-r"));

        // Sessions changed since that write: the deactivation writes them, and the next activation pushes to the live one.
        await user.DetachSessionAsync("gw-emb/9");
        await user.AttachSessionAsync(new SessionHandle("gw-emb", "gw-emb/10", reference, "10.0.0.9"));
        await user.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        var copy = new MmsSubmission("emb-1", "emb-s", "emb-r", "1", null, Encoding.UTF8.GetBytes("<body>x</body>"));
        Assert.Equal(MmsAcceptance.Online, await user.AcceptMmsAsync("emb-s", copy, DateTimeOffset.UtcNow.AddHours(1)));
        Assert.Equal(written + 2, fixture.Storage.GrainWritesOf("emb-r"));
        Assert.Equal("emb-1", (await observer.NextAsync("gw-emb/10")).MessageId);
        Assert.True(observer.IsEmpty("gw-emb/9"));
    }
}
