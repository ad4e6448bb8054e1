using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Mmss.Integration.Tests.Infrastructure;

namespace Mmss.Integration.Tests;

[Collection(ServerCollection.Name)]
public class Admin_Tests(ServerFixture fixture)
{
    private EmbeddedServer Server => fixture.Server;

    [Fact]
    public async Task Admin_api_refuses_requests_without_the_bearer_token()
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Server.HttpPort}/") };
        var response = await http.GetAsync("admin/users/1101");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        http.DefaultRequestHeaders.Authorization = new("Bearer", "wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("admin/users/1101")).StatusCode);
    }

    [Fact]
    public async Task User_is_created_read_renamed_and_deleted_and_secrets_are_never_shown()
    {
        using var http = Server.AdminClient();
        var created = await http.PostAsJsonAsync("admin/users", new { udn = "2201", password = "s3cret", name = "Car 22" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await http.PostAsJsonAsync("admin/users", new { udn = "2201", password = "x" })).StatusCode);

        var body = await http.GetStringAsync("admin/users/2201");
        Assert.Equal("Car 22", JsonDocument.Parse(body).RootElement.GetProperty("name").GetString());
        Assert.DoesNotContain("s3cret", body);
        Assert.DoesNotContain("credentials", body, StringComparison.OrdinalIgnoreCase);

        Assert.Equal(HttpStatusCode.OK, (await http.PutAsJsonAsync("admin/users/2201", new { name = "Car 22 (night)" })).StatusCode);
        await using (var login = await Server.LoginAsync("2201", "s3cret", "DIGEST-MD5"))
        {
            Assert.NotNull(login.BoundJid);
        }

        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync("admin/users/2201")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("admin/users/2201")).StatusCode);
        await Assert.ThrowsAsync<InvalidOperationException>(() => Server.LoginAsync("2201", "s3cret", "PLAIN"));
    }

    [Fact]
    public async Task Changing_the_password_makes_the_old_one_fail()
    {
        await Server.ProvisionUserAsync("2202", "old-password");
        await Server.ProvisionUserAsync("2202", "new-password");
        await Assert.ThrowsAsync<InvalidOperationException>(() => Server.LoginAsync("2202", "old-password", "SCRAM-SHA-256"));
        await using var client = await Server.LoginAsync("2202", "new-password", "CRAM-MD5");
        Assert.NotNull(client.BoundJid);
    }

    [Theory]
    [InlineData("{\"udn\":\"../etc\",\"password\":\"x\"}")]
    [InlineData("{\"udn\":\"ACK\",\"password\":\"x\"}")]
    [InlineData("{\"udn\":\"2203\"}")]
    [InlineData("{\"udn\":\"2203\",\"password\":\"\"}")]
    public async Task Invalid_users_are_refused_with_400_and_a_reason(string json)
    {
        using var http = Server.AdminClient();
        var response = await http.PostAsync("admin/users", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("error", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Group_is_stored_with_its_members()
    {
        using var http = Server.AdminClient();
        var put = await http.PutAsJsonAsync("admin/groups/9101", new { name = "Patrol", members = new[] { "1101", "1102" } });
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var group = JsonDocument.Parse(await http.GetStringAsync("admin/groups/9101")).RootElement;
        Assert.Equal("Patrol", group.GetProperty("name").GetString());
        Assert.Equal(new[] { "1101", "1102" }, group.GetProperty("members").EnumerateArray().Select(m => m.GetString()!).ToArray());
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync("admin/groups/9101")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("admin/groups/9101")).StatusCode);
    }
}
