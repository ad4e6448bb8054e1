namespace Mmss.Gateway.Attachments;

/// <summary>Where attachment bytes live: a local directory or S3. Writes are atomic: a file is visible whole or not at all.</summary>
public interface IAttachmentStore
{
    /// <summary>Stores the content, read to its end; nothing is visible until it is complete.</summary>
    Task PutAsync(AttachmentKey key, Stream content, CancellationToken cancellationToken);

    /// <summary>The stored length, or null when there is no such file.</summary>
    Task<long?> GetLengthAsync(AttachmentKey key, CancellationToken cancellationToken);

    /// <summary>Copies <paramref name="count"/> bytes from <paramref name="offset"/> to the destination.</summary>
    Task CopyToAsync(AttachmentKey key, long offset, long count, Stream destination, CancellationToken cancellationToken);

    /// <summary>Removes files stored before the cutoff; returns how many.</summary>
    Task<int> PruneAsync(DateTimeOffset storedBefore, CancellationToken cancellationToken);
}
