using System.Diagnostics;
using Mmss.Tests.Infrastructure;
using Npgsql;

namespace Mmss.Integration.Tests;

/// <summary>The tests' real PostgreSQL: databases, restarts (fast and crash-like), outages, and nothing left behind.</summary>
public sealed class PostgresServer_Tests
{
    private static string Unpooled(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(Unpooled(connectionString));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<List<string>> NotesAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(Unpooled(connectionString));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT text FROM notes ORDER BY id", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var notes = new List<string>();
        while (await reader.ReadAsync()) notes.Add(reader.GetString(0));
        return notes;
    }

    [Fact]
    public async Task A_committed_row_is_read_back_after_a_restart_and_after_a_crash_like_restart()
    {
        var server = await PostgresServer.StartNewAsync();
        int postmaster;
        await using (server)
        {
            var database = await server.CreateDatabaseAsync("restart_test");
            await ExecuteAsync(database, "CREATE TABLE notes (id int PRIMARY KEY, text text NOT NULL)");
            await ExecuteAsync(database, "INSERT INTO notes VALUES (1, 'before the restart')");
            var port = server.Port;
            var first = server.ProcessId;

            await server.RestartAsync();
            Assert.Equal(port, server.Port);
            Assert.NotEqual(first, server.ProcessId);
            Assert.Equal(["before the restart"], await NotesAsync(database));

            await ExecuteAsync(database, "INSERT INTO notes VALUES (2, 'before the crash')");
            await server.RestartAsync(immediate: true);
            Assert.Equal(["before the restart", "before the crash"], await NotesAsync(database));
            Assert.Contains("database system was interrupted", server.Log);
            postmaster = server.ProcessId!.Value;
        }

        Assert.False(server.IsRunning);
        Assert.False(Directory.Exists(server.Root));
        Assert.Throws<ArgumentException>(() => Process.GetProcessById(postmaster));
    }

    [Fact]
    public async Task A_server_shut_down_refuses_connections_until_it_is_started_again()
    {
        await using var server = await PostgresServer.StartNewAsync();
        var database = await server.CreateDatabaseAsync("outage_test");
        await ExecuteAsync(database, "CREATE TABLE notes (id int PRIMARY KEY, text text NOT NULL)");

        await server.ShutDownAsync();
        Assert.False(server.IsRunning);
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => ExecuteAsync(database, "INSERT INTO notes VALUES (1, 'down')"));

        await server.StartAsync();
        await ExecuteAsync(database, "INSERT INTO notes VALUES (1, 'up again')");
        Assert.Equal(["up again"], await NotesAsync(database));
    }

    [Fact]
    public async Task Database_fixtures_share_the_assemblys_server_each_with_a_fresh_database()
    {
        var a = new PostgresDatabaseFixture();
        var b = new PostgresDatabaseFixture();
        await a.InitializeAsync();
        await b.InitializeAsync();

        Assert.Same(a.Server, b.Server);
        Assert.Same(a.Server, await PostgresServer.SharedAsync());
        Assert.NotEqual(a.Database, b.Database);
        await ExecuteAsync(a.ConnectionString, "CREATE TABLE notes (id int PRIMARY KEY, text text NOT NULL)");
        await ExecuteAsync(a.ConnectionString, "INSERT INTO notes VALUES (1, 'only in a')");
        await ExecuteAsync(b.ConnectionString, "CREATE TABLE notes (id int PRIMARY KEY, text text NOT NULL)");
        Assert.Equal(["only in a"], await NotesAsync(a.ConnectionString));
        Assert.Empty(await NotesAsync(b.ConnectionString));

        await a.Server.CreateDatabaseAsync(a.Database); // afresh: the old one is dropped
        await Assert.ThrowsAsync<PostgresException>(() => NotesAsync(a.ConnectionString));
    }
}
