using System.Runtime.CompilerServices;

namespace Mmss.GrainInterfaces;

/// <summary>
/// Grain references for the per-message paths. <c>GetGrain&lt;T&gt;(key)</c> resolves the grain interface type from
/// the CLR type on every call (attribute lookups and a formatted type name: 5% of the server's CPU under load when
/// every MMS took a user grain that way, 2% of a relaying gateway's for the peer links); the grain and interface types
/// never change in a process, so they are resolved once per type here. A proxy is still made per call, and every
/// copier a proxy holds is resolved (through <c>ActivatorUtilities</c>) when it is made: the grain interfaces' array
/// and list parameters are therefore <c>[Immutable]</c> (no caller changes them after the call), which leaves the
/// proxies nothing to resolve and the calls nothing to copy.
/// </summary>
public static class GrainReferences
{
    public static IUserGrain User(this IGrainFactory grains, string udn) => grains.Reference<IUserGrain>(udn);

    /// <summary>The grain of type <typeparamref name="TGrain"/> with this key: what <c>GetGrain&lt;TGrain&gt;(key)</c> returns.</summary>
    public static TGrain Reference<TGrain>(this IGrainFactory grains, string key) where TGrain : IGrainWithStringKey
    {
        var resolved = Resolved<TGrain>.ByFactory.GetValue(grains, static factory =>
        {
            var probe = (GrainReference)(object)factory.GetGrain<TGrain>("-");
            return new Types(probe.GrainId.Type, probe.InterfaceType);
        });
        return (TGrain)grains.GetGrain(GrainId.Create(resolved.Grain, key), resolved.Interface);
    }

    private sealed record Types(GrainType Grain, GrainInterfaceType Interface);

    private static class Resolved<TGrain>
    {
        public static readonly ConditionalWeakTable<IGrainFactory, Types> ByFactory = [];
    }
}
