namespace Mmss.GrainInterfaces;

/// <summary>
/// Failed authentications of one UDN or one source address across every gateway, in a sliding window: N gateways must
/// not multiply the limits by N. Keyed "user/{udn}" or "address/{ip}" (<see cref="AuthFailureKeys"/>).
/// </summary>
public interface IAuthFailuresGrain : IGrainWithStringKey
{
    /// <summary>Failures within the last <paramref name="windowSeconds"/>.</summary>
    [Orleans.Concurrency.ReadOnly]
    Task<int> CountAsync(int windowSeconds);

    Task RecordAsync(int windowSeconds);
}

public static class AuthFailureKeys
{
    public static string User(string udn) => "user/" + udn;

    public static string Address(string address) => "address/" + address;

    /// <summary>In-band registrations (XEP-0077) from one address, counted like failures so that they are throttled alike.</summary>
    public static string Registrations(string address) => "registrations/" + address;
}
