using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;

// Not "Mmss.Gateway.Console": that would hide System.Console from every file of the gateway.
namespace Mmss.Gateway.DispatchConsole;

/// <summary>
/// The dispatch console at /console: static files built into the gateway's assembly (Console/wwwroot, bundled by
/// Console/build.mjs and committed), so that the binary alone serves it, from any working directory.
/// </summary>
public static class ConsoleEndpoints
{
    private const string Prefix = "console/";

    private sealed record Asset(byte[] Content, string ContentType, string ETag);

    public static WebApplication MapConsole(this WebApplication app)
    {
        var assets = LoadAssets();
        app.MapGet("/", () => Results.Redirect("/console")).ExcludeFromDescription();
        // "/console" and "/console/" both: routing ignores the trailing slash, so the page links its files absolutely.
        app.MapGet("/console/{*file}", (string? file, HttpContext http) =>
        {
            if (!assets.TryGetValue(string.IsNullOrEmpty(file) ? "index.html" : file, out var asset)) return Results.NotFound();
            var headers = http.Response.Headers;
            // Revalidated at every load, so that an upgraded gateway never serves a page with a stale script.
            headers.CacheControl = "no-cache";
            headers.ETag = asset.ETag;
            headers.XContentTypeOptions = "nosniff";
            headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data: blob:; connect-src 'self' ws: wss:; frame-ancestors 'none'";
            if (http.Request.Headers.IfNoneMatch == asset.ETag) return Results.StatusCode(StatusCodes.Status304NotModified);
            return Results.Bytes(asset.Content, asset.ContentType);
        }).ExcludeFromDescription();
        return app;
    }

    private static FrozenDictionary<string, Asset> LoadAssets()
    {
        var assembly = Assembly.GetExecutingAssembly();
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var content = copy.ToArray();
            var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(content))[..16] + "\"";
            assets[name[Prefix.Length..]] = new Asset(content, ContentType(name), etag);
        }
        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".png" => "image/png",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };
}
