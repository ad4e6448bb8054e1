using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Mmss.Silo;

/// <summary>
/// Ports and address of the Orleans silo (section Mmss:Orleans). In embedded mode both ports listen on loopback only;
/// in cluster mode they listen on every interface and <see cref="AdvertisedAddress"/> is what other silos and the
/// gateways are told to dial.
/// </summary>
public sealed class OrleansEndpointOptions
{
    public const string Section = "Mmss:Orleans";

    /// <summary>Silo-to-silo port.</summary>
    [Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port Orleans clients (gateway pods) connect to.</summary>
    [Range(1, 65535)]
    public int GatewayPort { get; set; } = 30000;

    /// <summary>
    /// The IP address published in the membership table (cluster mode). Unset: the host's first non-loopback IPv4
    /// address — in a Kubernetes pod, the pod IP.
    /// </summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>The configured address, or the host's own when none is configured.</summary>
    /// <exception cref="FormatException">AdvertisedAddress is set but is not an IP address.</exception>
    public IPAddress ResolveAdvertisedAddress()
    {
        if (!string.IsNullOrWhiteSpace(AdvertisedAddress))
        {
            return IPAddress.TryParse(AdvertisedAddress.Trim(), out var configured)
                ? configured
                : throw new FormatException($"{Section}:{nameof(AdvertisedAddress)} '{AdvertisedAddress}' is not an IP address");
        }
        return FirstHostAddress() ?? IPAddress.Loopback;
    }

    private static IPAddress? FirstHostAddress()
    {
        try
        {
            return NetworkInterface.GetAllNetworkInterfaces()
                .Where(nic => nic.OperationalStatus == OperationalStatus.Up && nic.NetworkInterfaceType != NetworkInterfaceType.Loopback)
                .SelectMany(nic => nic.GetIPProperties().UnicastAddresses)
                .Select(unicast => unicast.Address)
                .FirstOrDefault(address => address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(address));
        }
        catch (NetworkInformationException)
        {
            // Some sandboxes deny interface enumeration; loopback at least lets a single silo start.
            return null;
        }
    }
}
