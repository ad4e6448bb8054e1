using System.ComponentModel.DataAnnotations;

namespace Mmss.Gateway.Attachments;

/// <summary>Section "Mmss:Attachments": where attachments are kept (spec 7.4), their limits, and who may fetch them.</summary>
public sealed class AttachmentOptions
{
    public const string Section = "Mmss:Attachments";

    /// <summary>"Local" (a directory, embedded mode) or "S3" (MinIO or any S3).</summary>
    [RegularExpression("^(Local|S3)$", ErrorMessage = "Mmss:Attachments:Store must be Local or S3.")]
    public string Store { get; set; } = "Local";

    /// <summary>The local store's directory; empty: "attachments" under the data directory.</summary>
    public string? Directory { get; set; }

    /// <summary>"Session" (the request comes from the address of a live XMPP session of the user, or carries its
    /// HTTP Basic credentials), "Credentials" (HTTP Basic only) or "Open" (no check; labs only).</summary>
    [RegularExpression("^(Session|Credentials|Open)$", ErrorMessage = "Mmss:Attachments:AccessPolicy must be Session, Credentials or Open.")]
    public string AccessPolicy { get; set; } = "Session";

    [Range(1, long.MaxValue)]
    public long MaxFileBytes { get; set; } = 100L * 1024 * 1024;

    [Range(1, 1000)]
    public int MaxFilesPerMessage { get; set; } = 10;

    /// <summary>Bytes one user may upload per UTC day (per gateway process).</summary>
    [Range(1, long.MaxValue)]
    public long MaxDailyBytesPerUser { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>Largest upload request, all parts together.</summary>
    [Range(1, long.MaxValue)]
    public long MaxRequestBytes { get; set; } = 1024L * 1024 * 1024;

    /// <summary>Attachments are removed this long after their message's life ends.</summary>
    [Range(0, 3650)]
    public int RetentionDays { get; set; } = 7;

    public S3StoreOptions S3 { get; set; } = new();
}

/// <summary>Section "Mmss:Attachments:S3".</summary>
public sealed class S3StoreOptions
{
    /// <summary>host:port of the S3 endpoint, e.g. "minio:9000".</summary>
    public string Endpoint { get; set; } = "127.0.0.1:9000";

    public string Bucket { get; set; } = "mmss-attachments";

    public string AccessKey { get; set; } = "";

    public string SecretKey { get; set; } = "";

    public bool UseSsl { get; set; }

    public string Region { get; set; } = "us-east-1";
}
