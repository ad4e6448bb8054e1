using System.Security.Cryptography;
using Mmss.Gateway.Configuration;

namespace Mmss.Gateway.Hosting;

/// <summary>The admin API's bearer token: configured, or generated on first start and kept in the data directory.</summary>
public sealed class AdminToken(string value)
{
    public string Value { get; } = value;

    public bool Matches(string? presented) =>
        presented is not null &&
        CryptographicOperations.FixedTimeEquals(System.Text.Encoding.UTF8.GetBytes(presented), System.Text.Encoding.UTF8.GetBytes(Value));

    /// <summary>The request carries this token as its bearer token.</summary>
    public bool Authorizes(HttpRequest request)
    {
        const string scheme = "Bearer ";
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) && Matches(header[scheme.Length..].Trim());
    }

    public static AdminToken Load(AdminOptions options, string dataDirectory, ILogger logger)
    {
        if (!string.IsNullOrWhiteSpace(options.Token)) return new AdminToken(options.Token);
        var path = Path.Combine(dataDirectory, "admin-token");
        if (File.Exists(path))
        {
            logger.LogInformation("Admin API token is in {Path}", path);
            return new AdminToken(File.ReadAllText(path).Trim());
        }
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        Directory.CreateDirectory(dataDirectory);
        File.WriteAllText(path, token);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        // Printed on the console once, so an operator starting the server for the first time can use the admin API at once.
        Console.WriteLine($"Admin API token (generated, saved in {path}): {token}");
        return new AdminToken(token);
    }
}
