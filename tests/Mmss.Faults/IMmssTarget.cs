using System.Net;

namespace Mmss.Faults;

/// <summary>The MMSS under test: the embedded server, or a cluster of silos and gateways.</summary>
public interface IMmssTarget : IAsyncDisposable
{
    /// <summary>The JID domain served.</summary>
    string Domain { get; }

    /// <summary>Where a terminal's next connection goes (for a cluster, a gateway that runs, in turn).</summary>
    IPEndPoint NextC2sEndpoint();
}
