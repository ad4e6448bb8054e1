using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Mmss.Gateway.Configuration;

namespace Mmss.Gateway.Hosting;

/// <summary>The JID domains this server answers to (spec: the server's IP), the first being the default.</summary>
public sealed class ServedDomains
{
    private readonly HashSet<string> _set;

    public ServedDomains(IOptions<MmssOptions> options)
    {
        IEnumerable<string> domains = options.Value.Domains.Count > 0 ? options.Value.Domains : DiscoverDefaults();
        All = domains.Select(d => d.Trim().ToLowerInvariant()).Where(d => d.Length > 0).Distinct().ToArray();
        if (All.Count == 0) throw new OptionsValidationException(nameof(MmssOptions), typeof(MmssOptions), ["Mmss:Domains is empty."]);
        _set = new HashSet<string>(All, StringComparer.OrdinalIgnoreCase);
    }

    public IReadOnlyList<string> All { get; }

    public string Default => All[0];

    public bool IsServed(string? domain) => domain is not null && _set.Contains(domain);

    /// <summary>Spec 7.1.1 leniency: a missing or unknown 'to' is served as the default domain.</summary>
    /// <remarks>The served domain's own string, not the requested one: a connection keeps its domain for its whole life.</remarks>
    public string Resolve(string? requested) => requested is not null && _set.TryGetValue(requested, out var served) ? served : Default;

    private static List<string> DiscoverDefaults()
    {
        var domains = new List<string> { "localhost" };
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                if (nic.OperationalStatus != OperationalStatus.Up) continue;
                foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
                {
                    var address = unicast.Address;
                    if (address.AddressFamily == AddressFamily.InterNetworkV6 && (address.IsIPv6LinkLocal || address.IsIPv6SiteLocal)) continue;
                    if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)) continue;
                    domains.Add(address.ToString());
                }
            }
        }
        catch (NetworkInformationException)
        {
            domains.Add(IPAddress.Loopback.ToString());
        }
        return domains;
    }
}
