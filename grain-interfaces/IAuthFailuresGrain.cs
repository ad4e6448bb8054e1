namespace Mmss.GrainInterfaces;

/// <summary>
/// Failed authentications of UDNs and source addresses across every gateway, in a sliding window: N gateways must not
/// multiply the limits by N. The keys (<see cref="AuthFailureKeys"/>) are spread over a fixed set of partition grains
/// (<see cref="AuthFailureKeys.PartitionOf"/>) that stay active: a grain per key was activated and deactivated again by
/// nearly every login, which asks about a key with nothing to remember (two activations per login).
/// </summary>
public interface IAuthFailuresGrain : IGrainWithStringKey
{
    /// <summary>Failures of <paramref name="key"/> within the last <paramref name="windowSeconds"/>.</summary>
    [Orleans.Concurrency.ReadOnly]
    Task<int> CountAsync(string key, int windowSeconds);

    Task RecordAsync(string key, int windowSeconds);
}

public static class AuthFailureKeys
{
    /// <summary>Partition grains: enough that no one of them is a hot spot, few enough to stay active for good.</summary>
    public const int Partitions = 32;

    public static string User(string udn) => "user/" + udn;

    public static string Address(string address) => "address/" + address;

    /// <summary>In-band registrations (XEP-0077) from one address, counted like failures so that they are throttled alike.</summary>
    public static string Registrations(string address) => "registrations/" + address;

    /// <summary>The partition grain's key for <paramref name="key"/>: the same in every process (FNV-1a, not the per-process string hash).</summary>
    public static string PartitionOf(string key) => PartitionKey(PartitionIndexOf(key));

    /// <summary>The number of <paramref name="key"/>'s partition, 0 to <see cref="Partitions"/> − 1.</summary>
    public static int PartitionIndexOf(string key)
    {
        var hash = 2166136261u;
        foreach (var c in key) hash = (hash ^ c) * 16777619u;
        return (int)(hash % Partitions);
    }

    /// <summary>The grain key of partition <paramref name="index"/>.</summary>
    public static string PartitionKey(int index) => index.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
