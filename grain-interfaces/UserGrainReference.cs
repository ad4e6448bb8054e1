using System.Runtime.CompilerServices;

namespace Mmss.GrainInterfaces;

/// <summary>
/// User grain references for the per-message paths. <c>GetGrain&lt;IUserGrain&gt;(udn)</c> resolves the grain interface
/// type from the CLR type on every call (attribute lookups and a formatted type name: 5% of the server's CPU under
/// load); the grain and interface types never change in a process, so they are resolved once here. A proxy is still
/// made per call, and every copier a proxy holds is resolved (through <c>ActivatorUtilities</c>) when it is made: the
/// grain interfaces' array and list parameters are therefore <c>[Immutable]</c> (no caller changes them after the
/// call), which leaves the proxies nothing to resolve and the calls nothing to copy.
/// </summary>
public static class UserGrainReference
{
    private static readonly ConditionalWeakTable<IGrainFactory, Resolved> s_resolved = [];

    private sealed record Resolved(GrainType Type, GrainInterfaceType Interface);

    public static IUserGrain User(this IGrainFactory grains, string udn)
    {
        var resolved = s_resolved.GetValue(grains, static factory =>
        {
            var probe = (GrainReference)factory.GetGrain<IUserGrain>("-");
            return new Resolved(probe.GrainId.Type, probe.InterfaceType);
        });
        return (IUserGrain)grains.GetGrain(GrainId.Create(resolved.Type, udn), resolved.Interface);
    }
}
