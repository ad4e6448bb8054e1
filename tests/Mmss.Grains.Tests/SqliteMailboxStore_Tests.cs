using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Mmss.GrainInterfaces;
using Mmss.Silo.Storage;
using Orleans.Serialization;

namespace Mmss.Grains.Tests;

/// <summary>The embedded mailbox store, whose owners' rows are known from memory (MailboxOwnerIndex) rather than an index in the file.</summary>
public sealed class SqliteMailboxStore_Tests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "mmss-mailbox-" + Guid.NewGuid().ToString("N"));
    private readonly ServiceProvider _services =
        new ServiceCollection().AddSerializer(serializer => serializer.AddAssembly(typeof(MailboxEntry).Assembly)).BuildServiceProvider();
    private readonly List<SqliteDatabase> _databases = [];

    private string DatabasePath => Path.Combine(_directory, "mmss.db");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var database in _databases) await database.DisposeAsync();
        await _services.DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    private (SqliteDatabase Database, SqliteMailboxStore Store) Open()
    {
        var database = new SqliteDatabase(new SqliteGrainStorageOptions { DatabasePath = DatabasePath }, NullLogger<SqliteDatabase>.Instance);
        _databases.Add(database);
        return (database, new SqliteMailboxStore(database, _services.GetRequiredService<Serializer<MailboxEntry>>(),
            NullLogger<SqliteMailboxStore>.Instance));
    }

    private async Task CloseAsync(SqliteDatabase database)
    {
        _databases.Remove(database);
        await database.DisposeAsync();
    }

    private static MailboxEntry Mms(string id) =>
        new(0, DeliveryKind.Mms, id, "alice", "chat", [1, 2, 3], null, DateTimeOffset.UtcNow.AddDays(1), Answered: false);

    [Fact]
    public async Task An_owner_loads_exactly_the_rows_written_for_it_less_those_removed_in_order_of_writing()
    {
        var (_, store) = Open();
        var first = await store.AppendAsync("bob", Mms("m1"));
        var forCarol = await store.AppendAsync("carol", Mms("m2"));
        var second = await store.AppendAsync("bob", Mms("m3"));
        var third = await store.AppendAsync("bob", Mms("m4"));
        await store.RemoveAsync("bob", second);
        // A removal naming the wrong owner removes nothing, here or in the index.
        await store.RemoveAsync("carol", third);
        await store.UpdateAsync("bob", Mms("m4") with { Seq = third, Answered = true });

        var bob = await store.LoadAsync("bob");
        Assert.Equal([first, third], bob.Select(e => e.Seq));
        Assert.Equal(["m1", "m4"], bob.Select(e => e.MessageId));
        Assert.True(bob[1].Answered);
        Assert.Equal([forCarol], (await store.LoadAsync("carol")).Select(e => e.Seq));
        Assert.Empty(await store.LoadAsync("dave"));
    }

    [Fact]
    public async Task After_a_restart_the_owners_rows_are_known_from_the_file()
    {
        var (database, store) = Open();
        var kept = await store.AppendAsync("bob", Mms("m1"));
        var removed = await store.AppendAsync("bob", Mms("m2"));
        var carols = await store.AppendAsync("carol", Mms("m3"));
        await store.RemoveAsync("bob", removed);
        await CloseAsync(database);

        var (_, reopened) = Open();
        Assert.Equal([kept], (await reopened.LoadAsync("bob")).Select(e => e.Seq));
        Assert.Equal([carols], (await reopened.LoadAsync("carol")).Select(e => e.Seq));
        var later = await reopened.AppendAsync("bob", Mms("m4"));
        Assert.True(later > carols, "a sequence number is never given twice");
        Assert.Equal([kept, later], (await reopened.LoadAsync("bob")).Select(e => e.Seq));
    }

    [Fact]
    public async Task A_file_made_with_the_owner_index_loses_it_and_keeps_its_rows()
    {
        var (database, store) = Open();
        var seq = await store.AppendAsync("bob", Mms("m1"));
        await database.RunAsync("CREATE INDEX mailbox_owner ON mailbox (owner, seq)", command => command.ExecuteNonQuery());
        await CloseAsync(database);

        var (reopenedDatabase, reopened) = Open();
        Assert.Equal([seq], (await reopened.LoadAsync("bob")).Select(e => e.Seq));
        var indexes = await reopenedDatabase.ReadAsync("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'mailbox_owner'",
            command => (long)command.ExecuteScalar()!);
        Assert.Equal(0, indexes);
    }

    [Fact]
    public async Task Writes_racing_the_first_load_are_all_known_afterwards()
    {
        var (_, store) = Open();
        var appends = Enumerable.Range(0, 200).Select(i => store.AppendAsync("owner" + (i % 7), Mms("m" + i))).ToArray();
        var loads = Enumerable.Range(0, 7).Select(o => store.LoadAsync("owner" + o)).ToArray();
        var seqs = await Task.WhenAll(appends);
        await Task.WhenAll(loads);

        var known = new List<long>();
        for (var o = 0; o < 7; o++) known.AddRange((await store.LoadAsync("owner" + o)).Select(e => e.Seq));
        Assert.Equal(seqs.Order(), known.Order());
    }
}
