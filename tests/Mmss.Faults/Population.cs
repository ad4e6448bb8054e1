using System.Globalization;
using System.Text.Json;

namespace Mmss.Faults;

/// <summary>The terminals' users and their talk groups: 12 users, groups of 4 consecutive ones.</summary>
public static class Population
{
    public const int UserCount = 12, GroupSize = 4;
    public const string Password = "pw";

    public static string Udn(int index) => (2001 + index).ToString(CultureInfo.InvariantCulture);

    public static int GroupOf(int user) => user / GroupSize;

    public static string Gdn(int group) => (9101 + group).ToString(CultureInfo.InvariantCulture);

    public static IEnumerable<int> Groups => Enumerable.Range(0, UserCount / GroupSize);

    public static IEnumerable<int> Members(int group) => Enumerable.Range(group * GroupSize, GroupSize);

    /// <summary>The seed file's JSON (README "Provisioning").</summary>
    public static string SeedJson() => JsonSerializer.Serialize(new
    {
        users = Enumerable.Range(0, UserCount).Select(i => new { udn = Udn(i), password = Password, name = "Terminal " + Udn(i) }),
        groups = Groups.Select(g => new { gdn = Gdn(g), name = "Group " + Gdn(g), members = Members(g).Select(Udn) }),
    });
}
