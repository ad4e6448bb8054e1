namespace Mmss.GrainInterfaces;

/// <summary>What the attachment endpoint needs to decide a download: the uploaded files and who may fetch them.</summary>
[GenerateSerializer, Immutable]
public sealed record AttachmentAccess(
    [property: Id(0)] IReadOnlyList<string> UploadedFiles,
    [property: Id(1)] IReadOnlyList<string> Recipients,
    [property: Id(2)] DateTimeOffset? ExpiresAt);
