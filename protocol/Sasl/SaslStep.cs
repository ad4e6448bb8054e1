namespace Mmss.Protocol.Sasl;

public enum SaslStepKind
{
    Challenge,
    Success,
    Failure,
}

/// <summary>What the server answers to one client message: a challenge, success (with the authenticated user), or failure.</summary>
/// <param name="Reason">Why it failed, for the log; never sent to the client.</param>
public sealed record SaslStep(SaslStepKind Kind, byte[]? Data = null, string? Username = null, SaslFailure Failure = SaslFailure.NotAuthorized, string? Reason = null)
{
    public static SaslStep Challenge(byte[] data) => new(SaslStepKind.Challenge, data);

    public static SaslStep Succeeded(string username, byte[]? additionalData = null) => new(SaslStepKind.Success, additionalData, username);

    public static SaslStep Failed(SaslFailure failure, string reason, string? username = null) =>
        new(SaslStepKind.Failure, Username: username, Failure: failure, Reason: reason);
}
