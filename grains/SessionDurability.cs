namespace Mmss.Grains;

/// <summary>
/// Whether a terminal's session can outlive the silo that holds its user grain, which decides when a user grain writes
/// its session list. In a cluster it can (gateways are other processes), so every change is written, behind, for the
/// activation that follows a silo's death. In embedded mode silo and gateway are one process: a session ends with the
/// silo, and the list serves only the next activation of a grain collected while its terminal is connected, so it is
/// written when the grain is deactivated, not at each login and logout (two state writes per login and logout, most of
/// a login storm's storage writes; bench/RESULTS.md, session 19).
/// </summary>
public sealed class SessionDurability
{
    private SessionDurability(bool outliveSilo) => SessionsOutliveSilo = outliveSilo;

    /// <summary>Gateways in other processes (cluster mode): every change of the session list is written.</summary>
    public static SessionDurability Cluster { get; } = new(outliveSilo: true);

    /// <summary>The gateway in the silo's process (embedded mode): the list is written at deactivation only.</summary>
    public static SessionDurability ProcessLocal { get; } = new(outliveSilo: false);

    public bool SessionsOutliveSilo { get; }
}
