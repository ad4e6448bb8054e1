namespace Mmss.Gateway.Attachments;

/// <summary>Attachments in a local directory (embedded mode). Each file is written under a temporary name, flushed to disk, then renamed.</summary>
public sealed class LocalAttachmentStore(string root) : IAttachmentStore
{
    private const int BufferSize = 128 * 1024;

    public string Root { get; } = System.IO.Path.GetFullPath(root);

    public async Task PutAsync(AttachmentKey key, Stream content, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".partial";
        try
        {
            await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, FileOptions.Asynchronous))
            {
                await content.CopyToAsync(file, BufferSize, cancellationToken);
                await file.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    public Task<long?> GetLengthAsync(AttachmentKey key, CancellationToken cancellationToken)
    {
        var info = new FileInfo(PathOf(key));
        return Task.FromResult<long?>(info.Exists ? info.Length : null);
    }

    public async Task CopyToAsync(AttachmentKey key, long offset, long count, Stream destination, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(PathOf(key), FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        file.Position = offset;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (count > 0)
            {
                var read = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)), cancellationToken);
                if (read == 0) throw new EndOfStreamException("the stored file is shorter than expected");
                await destination.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                count -= read;
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public Task<int> PruneAsync(DateTimeOffset storedBefore, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(Root)) return Task.FromResult(0);
        var removed = 0;
        foreach (var file in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (File.GetLastWriteTimeUtc(file) >= storedBefore.UtcDateTime) continue;
            File.Delete(file);
            removed++;
        }
        return Task.FromResult(removed);
    }

    private string PathOf(AttachmentKey key)
    {
        var path = System.IO.Path.GetFullPath(System.IO.Path.Combine(Root, key.Path));
        // Hex-encoded names cannot escape the root; checked anyway, since a mistake here would expose the disk.
        if (!path.StartsWith(Root + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new InvalidOperationException("attachment path outside the store");
        return path;
    }
}
