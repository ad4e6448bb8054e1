namespace Mmss.Gateway.Attachments;

/// <summary>Why an attachment request is refused. One table maps each to its HTTP status (Prosody's mod_http_file_share style).</summary>
public enum AttachmentFailure
{
    BadRequest,
    NotAllowed,
    NotFound,
    FileTooLarge,
    TooManyFiles,
    QuotaExceeded,
    RequestTooLarge,
    /// <summary>The body arrived slower than Kestrel's minimum data rate (240 bytes/s after a 5 s grace): a stalled upload.</summary>
    RequestTimeout,
    StoreUnavailable,
}

public static class AttachmentFailureStatus
{
    public static int StatusCode(this AttachmentFailure failure) => failure switch
    {
        AttachmentFailure.BadRequest => StatusCodes.Status400BadRequest,
        AttachmentFailure.NotAllowed => StatusCodes.Status403Forbidden,
        AttachmentFailure.NotFound => StatusCodes.Status404NotFound,
        AttachmentFailure.FileTooLarge or AttachmentFailure.TooManyFiles or AttachmentFailure.RequestTooLarge => StatusCodes.Status413PayloadTooLarge,
        AttachmentFailure.QuotaExceeded => StatusCodes.Status413PayloadTooLarge,
        AttachmentFailure.RequestTimeout => StatusCodes.Status408RequestTimeout,
        _ => StatusCodes.Status503ServiceUnavailable,
    };
}

public sealed class AttachmentRefusedException(AttachmentFailure failure, string reason) : Exception(reason)
{
    public AttachmentFailure Failure { get; } = failure;
}
