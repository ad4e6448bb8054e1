using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Mmss.Gateway.Configuration;
using Mmss.Gateway.Diagnostics;
using Mmss.Silo.Diagnostics;

namespace Mmss.Gateway.Hosting;

/// <summary>
/// Answers 429 Too Many Requests, with Retry-After, to a source address that made <c>Mmss:Http:MaxRefusalsPerAddress</c>
/// refused requests (401, 403, and 400 unless the request bears the admin token: an operator's malformed call is no
/// attack) within the window, until that window ends — at the cost of a lookup, before the admin token is checked, an
/// upload's multipart body parsed or a terminal's session looked up. Requests that succeed never count; other addresses
/// are served as before; health probes and metric scrapes are never limited. An IPv6 address counts with its /64: one
/// host commonly has the whole prefix.
/// <para>
/// The counts live in this process, not in a grain shared by the cluster, on purpose: this is a cheap shield of one
/// gateway's CPU against a client looping on refused requests (in the abuse bench, forged uploads and token-less admin
/// calls took the most from the terminals), not a security decision — the token and access checks still make those. A
/// cluster-wide count would cost a grain call on every request to protect against the cost of a request.
/// </para>
/// </summary>
public sealed class RefusedRequestLimiter
{
    private static readonly byte[] TooMany = "{\"error\":\"too many refused requests from this address; retry later\"}"u8.ToArray();

    private readonly RequestDelegate _next;
    private readonly int _limit;
    private readonly int _windowSeconds;
    private readonly WindowedCounts _refusals;
    private readonly AdminToken _adminToken;
    private readonly ILogger _logger;

    public RefusedRequestLimiter(RequestDelegate next, IOptions<HttpOptions> options, TimeProvider time, AdminToken adminToken, ILoggerFactory loggers)
    {
        var http = options.Value;
        (_next, _limit, _windowSeconds, _adminToken) = (next, http.MaxRefusalsPerAddress, http.RefusalWindowSeconds, adminToken);
        _refusals = new WindowedCounts(TimeSpan.FromSeconds(http.RefusalWindowSeconds), http.RefusalTableSize, time);
        _logger = loggers.CreateLogger("Mmss.Http");
    }

    public async Task InvokeAsync(HttpContext http)
    {
        if (IsProbe(http.Request.Path) || AddressKey(http.Connection.RemoteIpAddress) is not { } address)
        {
            await _next(http);
            return;
        }
        var (refusals, remaining) = _refusals.Peek(address);
        if (refusals >= _limit)
        {
            await TooManyAsync(http, address, refusals, remaining);
            return;
        }
        await _next(http);
        if (IsRefusal(http)) _refusals.Add(address);
    }

    private async Task TooManyAsync(HttpContext http, string address, int refusals, TimeSpan remaining)
    {
        var retryAfter = Math.Max(1, (int)Math.Ceiling(remaining.TotalSeconds));
        GatewayMetrics.HttpRequestLimited();
        if (_refusals.FirstReport(address))
        {
            _logger.LogWarning("HTTP requests from {Address} are answered 429 for {Seconds} s: {Refusals} refused requests within {WindowSeconds} s",
                address, retryAfter, refusals, _windowSeconds);
        }
        var response = http.Response;
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        response.ContentType = "application/json";
        response.ContentLength = TooMany.Length;
        await response.Body.WriteAsync(TooMany, http.RequestAborted);
    }

    private bool IsRefusal(HttpContext http) => http.Response.StatusCode switch
    {
        StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden => true,
        StatusCodes.Status400BadRequest => !_adminToken.Authorizes(http.Request),
        _ => false,
    };

    private static bool IsProbe(PathString path) =>
        path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase) ||
        path.StartsWithSegments(MetricsExtensions.Path, StringComparison.OrdinalIgnoreCase);

    private static string? AddressKey(IPAddress? address)
    {
        if (address is null) return null;
        if (address.IsIPv4MappedToIPv6) return address.MapToIPv4().ToString();
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return address.ToString();
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes).ToString() + "/64";
    }
}

public static class RefusedRequestLimiterExtensions
{
    /// <summary>Adds the limiter unless <c>Mmss:Http:MaxRefusalsPerAddress</c> is 0; before the endpoints, so a limited request reaches none.</summary>
    public static WebApplication UseRefusedRequestLimit(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<HttpOptions>>().Value.MaxRefusalsPerAddress > 0) app.UseMiddleware<RefusedRequestLimiter>();
        return app;
    }
}
