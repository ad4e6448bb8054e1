using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Mmss.Integration.Tests.Infrastructure;

namespace Mmss.Integration.Tests;

/// <summary>
/// Mmss:Http:MaxRefusalsPerAddress (RELIABILITY.md "Floods and abuse"): an address that made too many refused HTTP
/// requests within the window is answered 429 with Retry-After until the window ends, before authentication or body
/// parsing; other addresses, successful requests and health probes are not affected. Each client connects from a
/// loopback address of its own.
/// </summary>
public sealed class RefusedRequestLimit_Tests : IAsyncLifetime
{
    private const int Limit = 5;
    private const int WindowSeconds = 10;
    private const string User = "7301";

    private readonly EmbeddedServer _server = new(new Dictionary<string, string>
    {
        ["Mmss__Http__MaxRefusalsPerAddress"] = Limit.ToString(),
        ["Mmss__Http__RefusalWindowSeconds"] = WindowSeconds.ToString(),
    });

    public async Task InitializeAsync()
    {
        await _server.StartAsync();
        await _server.ProvisionUserAsync(User, "pw");
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Past_the_limit_an_address_gets_429_with_retry_after_until_its_window_ends_and_others_are_served()
    {
        using var attacker = SourceAddressHttp.From("127.0.0.21", _server);
        for (var i = 0; i < Limit - 1; i++) Assert.Equal(HttpStatusCode.Unauthorized, await GetUserAsync(attacker, token: null));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetUserAsync(attacker, "wrong-" + EmbeddedServer.AdminToken));

        using var limited = await attacker.GetAsync($"admin/users/{User}");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        var retryAfter = limited.Headers.RetryAfter?.Delta;
        Assert.True(retryAfter is { } delay && delay > TimeSpan.Zero && delay <= TimeSpan.FromSeconds(WindowSeconds),
            $"Retry-After: {limited.Headers.RetryAfter}");
        Assert.Contains("too many refused requests", await limited.Content.ReadAsStringAsync());
        // Every request of the address is limited, the right token too: it is not even looked at.
        Assert.Equal(HttpStatusCode.TooManyRequests, await GetUserAsync(attacker, EmbeddedServer.AdminToken));
        for (var i = 0; i < 5; i++) Assert.Equal(HttpStatusCode.TooManyRequests, await GetUserAsync(attacker, token: null));
        // Probes and scrapes are never limited; the scrape counts the 429s.
        Assert.Equal(HttpStatusCode.OK, (await attacker.GetAsync("health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await attacker.GetAsync("metrics")).StatusCode);
        var metrics = await PrometheusScrape.WaitForAsync($"http://{_server.Host}:{_server.HttpPort}/metrics",
            scrape => scrape.Value("mmss_gateway_http_limited_total") >= 7);
        Assert.Equal(7, metrics.Value("mmss_gateway_http_limited_total"));

        using var other = SourceAddressHttp.From("127.0.0.22", _server);
        Assert.Equal(HttpStatusCode.OK, await GetUserAsync(other, EmbeddedServer.AdminToken));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetUserAsync(other, token: null));

        // Logged once for the window, not per request: the 429s were logged before the other address's refusal was.
        await EventuallyAsync(() => _server.Output.Contains("Admin API refused GET /admin/users/7301 from 127.0.0.22"), "the other address's refusal is logged");
        Assert.Equal(1, Regex.Count(_server.Output, @"HTTP requests from 127\.0\.0\.21 are answered 429"));
        Assert.DoesNotContain("HTTP requests from 127.0.0.22", _server.Output);

        // The window opened at the first refusal; once it has passed the address is served again.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(WindowSeconds + 30);
        while (await GetUserAsync(attacker, EmbeddedServer.AdminToken) is var status && status != HttpStatusCode.OK)
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, status);
            Assert.True(DateTime.UtcNow < deadline, "the address was still limited long after its window");
            await Task.Delay(200);
        }
        Assert.Equal(HttpStatusCode.Unauthorized, await GetUserAsync(attacker, token: null));
    }

    [Fact]
    public async Task Successful_requests_and_the_operators_bad_requests_do_not_count()
    {
        using var client = SourceAddressHttp.From("127.0.0.23", _server);
        for (var i = 0; i < Limit - 1; i++) Assert.Equal(HttpStatusCode.Unauthorized, await GetUserAsync(client, token: null));
        // Within the same window: many successes, and 400s answered to requests bearing the admin token.
        for (var i = 0; i < 3 * Limit; i++) Assert.Equal(HttpStatusCode.OK, await GetUserAsync(client, EmbeddedServer.AdminToken));
        for (var i = 0; i < 2 * Limit; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, $"admin/users/{User}") { Content = JsonContent.Create(new { udn = "7399", password = "pw" }) };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", EmbeddedServer.AdminToken);
            Assert.Equal(HttpStatusCode.BadRequest, (await client.SendAsync(request)).StatusCode);
        }
        // Only the refusals counted: one more is still answered, the next is limited.
        Assert.Equal(HttpStatusCode.Unauthorized, await GetUserAsync(client, token: null));
        Assert.Equal(HttpStatusCode.TooManyRequests, await GetUserAsync(client, EmbeddedServer.AdminToken));
    }

    [Fact]
    public async Task Forged_and_malformed_uploads_count_and_past_the_limit_are_answered_429_before_the_body_is_read()
    {
        using var forger = SourceAddressHttp.From("127.0.0.24", _server);
        // userid names a user with no session from this address, and no credentials: 403 (spec 7.4 access check).
        for (var i = 0; i < Limit - 1; i++) Assert.Equal(HttpStatusCode.Forbidden, await UploadAsync(forger, SpecMultipart.Body(User, $"forged-{i}", ("a.jpg", [1, 2, 3]))));
        Assert.Equal(HttpStatusCode.BadRequest, await UploadAsync(forger, "not a multipart body"u8.ToArray()));
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.TooManyRequests, await UploadAsync(forger, SpecMultipart.Body(User, $"forged-late-{i}", ("a.jpg", [1, 2, 3]))));

        // The upload endpoint logged the refusals it answered, and never saw the limited ones.
        using var marker = SourceAddressHttp.From("127.0.0.25", _server);
        Assert.Equal(HttpStatusCode.Forbidden, await UploadAsync(marker, SpecMultipart.Body(User, "marker", ("a.jpg", [1]))));
        await EventuallyAsync(() => _server.Output.Contains("Upload from 127.0.0.25 refused"), "the marker's refusal is logged");
        Assert.Equal(Limit, Regex.Count(_server.Output, @"Upload from 127\.0\.0\.24 refused"));
    }

    private static async Task<HttpStatusCode> GetUserAsync(HttpClient client, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"admin/users/{User}");
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task<HttpStatusCode> UploadAsync(HttpClient client, byte[] body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "attachment") { Content = new ByteArrayContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", $"multipart/form-data; boundary={SpecMultipart.Boundary}");
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task EventuallyAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not within 20 s: {what}");
            await Task.Delay(50);
        }
    }
}
