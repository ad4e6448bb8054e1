using System.Diagnostics;

namespace Mmss.Integration.Tests.Infrastructure;

/// <summary>
/// A small tmpfs (mounted with `mount -t tmpfs`: the tests run as root) for a server's data directory, and a ballast
/// file that fills it up: a disk that runs out of space, and gets it back.
/// </summary>
public sealed class SmallDisk : IAsyncDisposable
{
    private SmallDisk(string path, int megabytes)
    {
        Path = path;
        Megabytes = megabytes;
    }

    public string Path { get; }
    public int Megabytes { get; }

    private string Ballast => System.IO.Path.Combine(Path, "ballast");

    public static async Task<SmallDisk> MountAsync(int megabytes)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mmss-small-disk-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(path);
        await RunAsync("mount", "-t", "tmpfs", "-o", $"size={megabytes}m", "tmpfs", path);
        return new SmallDisk(path, megabytes);
    }

    /// <summary>Writes the ballast until the file system has no space left; returns its size in bytes.</summary>
    public async Task<long> FillAsync()
    {
        var chunk = new byte[1024 * 1024];
        long written = 0;
        await using var file = new FileStream(Ballast, FileMode.Create, FileAccess.Write, FileShare.None, 1);
        try
        {
            while (true)
            {
                await file.WriteAsync(chunk);
                written += chunk.Length;
            }
        }
        catch (IOException)
        {
            // ENOSPC: full. Whatever fits of a last partial chunk stays written.
        }
        return written;
    }

    /// <summary>Deletes the ballast: the space comes back.</summary>
    public void Free() => File.Delete(Ballast);

    public async ValueTask DisposeAsync()
    {
        await RunAsync("umount", "--lazy", Path);
        Directory.Delete(Path);
    }

    private static async Task RunAsync(string program, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardError = true })
                            ?? throw new InvalidOperationException($"could not start {program}");
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', arguments)}: {error.Trim()}");
    }
}
