namespace Mmss.Protocol.Xmpp;

/// <summary>RFC 6120 §4.9.3 stream error conditions the server emits.</summary>
public enum StreamErrorCondition
{
    BadFormat,
    Conflict,
    ConnectionTimeout,
    HostUnknown,
    InternalServerError,
    InvalidNamespace,
    InvalidXml,
    NotAuthorized,
    NotWellFormed,
    PolicyViolation,
    ResourceConstraint,
    RestrictedXml,
    SystemShutdown,
    UndefinedCondition,
    UnsupportedStanzaType,
    UnsupportedVersion,
    // Server-to-server conditions (RFC 6120 §4.9.3.7, §4.9.3.9); appended so earlier values keep their numbers.
    ImproperAddressing,
    InvalidFrom,
}

public static class StreamErrorConditionNames
{
    public static string ToElementName(this StreamErrorCondition condition) => condition switch
    {
        StreamErrorCondition.BadFormat => "bad-format",
        StreamErrorCondition.Conflict => "conflict",
        StreamErrorCondition.ConnectionTimeout => "connection-timeout",
        StreamErrorCondition.HostUnknown => "host-unknown",
        StreamErrorCondition.ImproperAddressing => "improper-addressing",
        StreamErrorCondition.InternalServerError => "internal-server-error",
        StreamErrorCondition.InvalidFrom => "invalid-from",
        StreamErrorCondition.InvalidNamespace => "invalid-namespace",
        StreamErrorCondition.InvalidXml => "invalid-xml",
        StreamErrorCondition.NotAuthorized => "not-authorized",
        StreamErrorCondition.NotWellFormed => "not-well-formed",
        StreamErrorCondition.PolicyViolation => "policy-violation",
        StreamErrorCondition.ResourceConstraint => "resource-constraint",
        StreamErrorCondition.RestrictedXml => "restricted-xml",
        StreamErrorCondition.SystemShutdown => "system-shutdown",
        StreamErrorCondition.UndefinedCondition => "undefined-condition",
        StreamErrorCondition.UnsupportedStanzaType => "unsupported-stanza-type",
        StreamErrorCondition.UnsupportedVersion => "unsupported-version",
        _ => "undefined-condition",
    };
}
