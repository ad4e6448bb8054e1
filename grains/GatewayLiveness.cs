namespace Mmss.Grains;

/// <summary>
/// This silo's copy of the gateways counted gone, refreshed from the directory grain every quarter of the expiry
/// period (silo/GatewayLivenessRefresher). User grains consult it before every push, without a grain call per message.
/// </summary>
public sealed class GatewayLiveness
{
    private volatile HashSet<string> _gone = new(StringComparer.Ordinal);

    public bool IsGone(string gatewayId) => _gone.Contains(gatewayId);

    public void Update(IEnumerable<string> gone) => _gone = new HashSet<string>(gone, StringComparer.Ordinal);
}
