namespace Mmss.Protocol.Sasl;

/// <summary>RFC 6120 §6.5 SASL failure conditions.</summary>
public enum SaslFailure
{
    Aborted,
    EncryptionRequired,
    IncorrectEncoding,
    InvalidAuthzid,
    InvalidMechanism,
    MalformedRequest,
    MechanismTooWeak,
    NotAuthorized,
    TemporaryAuthFailure,
}

public static class SaslFailureNames
{
    public static string ToElementName(this SaslFailure failure) => failure switch
    {
        SaslFailure.Aborted => "aborted",
        SaslFailure.EncryptionRequired => "encryption-required",
        SaslFailure.IncorrectEncoding => "incorrect-encoding",
        SaslFailure.InvalidAuthzid => "invalid-authzid",
        SaslFailure.InvalidMechanism => "invalid-mechanism",
        SaslFailure.MalformedRequest => "malformed-request",
        SaslFailure.MechanismTooWeak => "mechanism-too-weak",
        SaslFailure.TemporaryAuthFailure => "temporary-auth-failure",
        _ => "not-authorized",
    };
}
