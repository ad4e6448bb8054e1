using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Mmss.Gateway.Configuration;
using Mmss.Gateway.Hosting;
using Mmss.Gateway.Provisioning;

namespace Mmss.Fuzz.Targets;

/// <summary>
/// The admin API's bodies and the seed file (gateway/Provisioning): System.Text.Json with the web defaults that
/// minimal APIs and <see cref="SeedFileApplier"/> use, then the <see cref="Provisioner"/>'s checks. Bad JSON may only
/// raise <see cref="JsonException"/> (ASP.NET answers 400); a bad value must come back as
/// <see cref="ProvisioningOutcome.Invalid"/>, never as an exception. First byte: 0 user, 1 group, 2 seed file.
/// </summary>
public sealed class AdminJsonTarget : FuzzTarget
{
    private static readonly Provisioner Provisioner = new(NullGrains.Factory,
        new ServedDomains(Options.Create(new MmssOptions { Domains = ["20.20.20.99"] })), NullLogger<Provisioner>.Instance);

    public override string Name => "admin-json";

    public override IReadOnlyList<string> InstrumentedAssemblies => ["Mmss.Gateway.dll"];

    public override string Run(byte[] input)
    {
        if (input.Length == 0) return "empty";
        var json = input.AsSpan(1);
        try
        {
            switch (input[0] % 3)
            {
                case 0:
                    return JsonSerializer.Deserialize<UserRequest>(json, JsonSerializerOptions.Web) is { } user ? Upsert(user) : "null";
                case 1:
                    return JsonSerializer.Deserialize<GroupRequest>(json, JsonSerializerOptions.Web) is { } group ? Upsert(group) : "null";
                default:
                    var seed = JsonSerializer.Deserialize<SeedFile>(json, JsonSerializerOptions.Web);
                    var outcomes = new List<string>();
                    foreach (var u in seed?.Users ?? []) if (u is not null) outcomes.Add(Upsert(u));
                    foreach (var g in seed?.Groups ?? []) if (g is not null) outcomes.Add(Upsert(g));
                    return "seed: " + string.Join(", ", outcomes);
            }
        }
        catch (JsonException e)
        {
            // 400 Bad Request from the framework's body binding.
            return "400: " + e.Message;
        }
    }

    private static string Upsert(UserRequest user) => Describe(Provisioner.UpsertUserAsync(user with { Password = Shorten(user.Password) }).GetAwaiter().GetResult());

    private static string Upsert(GroupRequest group) => Describe(Provisioner.UpsertGroupAsync(group).GetAwaiter().GetResult());

    private static string Describe(ProvisioningResult result) => result.Error is null ? result.Outcome.ToString() : $"{result.Outcome}: {result.Error}";

    /// <summary>A valid password costs two PBKDF2 derivations (4096 iterations each); its content matters less than its presence.</summary>
    private static string? Shorten(string? password) => password is { Length: > 0 and <= Provisioner.MaxPasswordLength } ? password[..Math.Min(8, password.Length)] : password;

    public override IEnumerable<string> Dictionary() =>
    [
        "{", "}", "[", "]", ":", ",", "\"udn\"", "\"password\"", "\"name\"", "\"gdn\"", "\"members\"", "\"users\"", "\"groups\"",
        "null", "true", "1e999", "-0", "\"\\u0000\"", "\"\\uD800\"", "\"ACK\"", "\"1101\"", "/*", "*/", "\"$type\"",
    ];

    public override IEnumerable<(string Name, byte[] Bytes)> Seeds()
    {
        yield return ("user", [0, .. """{"udn":"1101","password":"pw","name":"Unit 1"}"""u8]);
        yield return ("user-rename", [0, .. """{"udn":"1101","name":"Unit \u4e00"}"""u8]);
        yield return ("user-reserved", [0, .. """{"udn":"ACK","password":"pw"}"""u8]);
        yield return ("group", [1, .. """{"gdn":"9001","name":"Patrol","members":["1101","1102"]}"""u8]);
        yield return ("group-bad-member", [1, .. """{"gdn":"9001","members":["1101",null,"a b"]}"""u8]);
        yield return ("seed", [2, .. """{"users":[{"udn":"1101","password":"pw"},{"udn":"1102","password":"pw2","name":"Unit 2"}],"groups":[{"gdn":"9001","members":["1101","1102"]}]}"""u8]);
    }
}
