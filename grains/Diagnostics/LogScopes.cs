using Microsoft.Extensions.Logging;

namespace Mmss.Grains.Diagnostics;

/// <summary>
/// Whether this process's logs write scopes at all: the JSON format (Mmss:Logging:Format=json) does, the default text
/// format only when told to (Logging:Console:FormatterOptions:IncludeScopes). A scope pushed costs an execution-context
/// change and five objects for every MMS, answer and connection, about 5% of the bytes a round trip allocates; where no
/// log line can show it, it is not pushed.
/// </summary>
public sealed class LogScopes(bool written)
{
    public bool Written { get; } = written;

    /// <summary>The scope, begun on <paramref name="logger"/> if logs write scopes; otherwise null, for a <c>using</c> all the same.</summary>
    public IDisposable? Begin(ILogger logger, LogScope scope) => Written ? logger.BeginScope(scope) : null;

    /// <summary>The scope of one message's handling (<see cref="LogScope.ForMessage"/>), made only if logs write scopes.</summary>
    public IDisposable? ForMessage(ILogger logger, string udn, string messageId) =>
        Written ? logger.BeginScope(LogScope.ForMessage(udn, messageId)) : null;
}
