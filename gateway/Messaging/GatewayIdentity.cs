namespace Mmss.Gateway.Messaging;

/// <summary>This gateway process's name in the gateway directory: new at every start, so a restarted gateway is a new one.</summary>
public sealed class GatewayIdentity
{
    public string Id { get; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
}
