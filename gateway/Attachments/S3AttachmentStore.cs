using System.Net.Sockets;
using Microsoft.Extensions.Options;
using Minio;
using Minio.DataModel.Args;
using Minio.Exceptions;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace Mmss.Gateway.Attachments;

/// <summary>
/// Attachments in MinIO or any S3 (cluster mode). An upload is first spooled to a temporary file — memory stays flat and a
/// retry can send it again — then put as one object, which S3 makes visible only when complete. Transient failures are
/// retried with backoff; a store that keeps failing opens the circuit and callers get 503 at once.
/// </summary>
public sealed class S3AttachmentStore : IAttachmentStore, IDisposable
{
    /// <summary>How long the circuit stays open once the store keeps failing: what a refused client is told to wait.</summary>
    public static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(10);

    private readonly IMinioClient _client;
    private readonly string _bucket;
    private readonly ResiliencePipeline _pipeline;
    private readonly ILogger<S3AttachmentStore> _logger;
    private readonly SemaphoreSlim _bucketGate = new(1, 1);
    private bool _bucketReady;

    public S3AttachmentStore(IOptions<AttachmentOptions> options, ILogger<S3AttachmentStore> logger)
    {
        var s3 = options.Value.S3;
        _bucket = s3.Bucket;
        _logger = logger;
        _client = new MinioClient().WithEndpoint(s3.Endpoint).WithCredentials(s3.AccessKey, s3.SecretKey)
            .WithRegion(s3.Region).WithSSL(s3.UseSsl).Build();
        var transient = new PredicateBuilder().Handle<Exception>(IsTransient);
        _pipeline = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = transient,
                MaxRetryAttempts = 5,
                BackoffType = DelayBackoffType.Exponential,
                Delay = TimeSpan.FromMilliseconds(200),
                UseJitter = true,
                OnRetry = args =>
                {
                    logger.LogWarning("S3 attempt {Attempt} failed ({Reason}); retrying in {Delay}", args.AttemptNumber + 1,
                        args.Outcome.Exception?.Message, args.RetryDelay);
                    return default;
                },
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = transient,
                FailureRatio = 0.8,
                MinimumThroughput = 10,
                SamplingDuration = TimeSpan.FromSeconds(30),
                BreakDuration = BreakDuration,
            })
            .Build();
    }

    public async Task PutAsync(AttachmentKey key, Stream content, CancellationToken cancellationToken)
    {
        var spool = Path.Combine(Path.GetTempPath(), "mmss-upload-" + Guid.NewGuid().ToString("N"));
        await using var file = new FileStream(spool, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 128 * 1024,
            FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        await content.CopyToAsync(file, 128 * 1024, cancellationToken);
        await RunAsync(async token =>
        {
            await EnsureBucketAsync(token);
            file.Position = 0;
            await _client.PutObjectAsync(new PutObjectArgs().WithBucket(_bucket).WithObject(key.Path)
                .WithStreamData(file).WithObjectSize(file.Length).WithContentType("application/octet-stream"), token);
        }, cancellationToken);
    }

    public async Task<long?> GetLengthAsync(AttachmentKey key, CancellationToken cancellationToken)
    {
        long? length = null;
        await RunAsync(async token =>
        {
            try
            {
                length = (await _client.StatObjectAsync(new StatObjectArgs().WithBucket(_bucket).WithObject(key.Path), token)).Size;
            }
            catch (Exception e) when (e is ObjectNotFoundException or BucketNotFoundException)
            {
                length = null;
            }
        }, cancellationToken);
        return length;
    }

    public async Task CopyToAsync(AttachmentKey key, long offset, long count, Stream destination, CancellationToken cancellationToken)
    {
        // A presigned GET with a plain Range header: the SDK's ranged GetObject first sends a ranged HEAD, which some
        // S3 servers answer 206 and the SDK then takes for an error. Not retried: once bytes have gone to the client a
        // retry would corrupt the response.
        try
        {
            var url = await _client.PresignedGetObjectAsync(new PresignedGetObjectArgs().WithBucket(_bucket).WithObject(key.Path).WithExpiry(300));
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(offset, offset + count - 1);
            using var response = await Downloads.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode) throw new HttpRequestException($"S3 answered {(int)response.StatusCode}", null, response.StatusCode);
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            await body.CopyToAsync(destination, 128 * 1024, cancellationToken);
        }
        catch (Exception e) when (IsTransient(e))
        {
            throw new AttachmentStoreUnavailableException("S3 read failed", e);
        }
    }

    private static readonly HttpClient Downloads = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public async Task<int> PruneAsync(DateTimeOffset storedBefore, CancellationToken cancellationToken)
    {
        var removed = 0;
        await RunAsync(async token =>
        {
            await EnsureBucketAsync(token);
            await foreach (var item in _client.ListObjectsEnumAsync(new ListObjectsArgs().WithBucket(_bucket).WithRecursive(true), token))
            {
                if (item.IsDir || item.LastModifiedDateTime is not { } modified || modified >= storedBefore.UtcDateTime) continue;
                await _client.RemoveObjectAsync(new RemoveObjectArgs().WithBucket(_bucket).WithObject(item.Key), token);
                removed++;
            }
        }, cancellationToken);
        return removed;
    }

    private async Task RunAsync(Func<CancellationToken, Task> operation, CancellationToken cancellationToken)
    {
        try
        {
            await _pipeline.ExecuteAsync(async token => await operation(token), cancellationToken);
        }
        catch (BrokenCircuitException e)
        {
            throw new AttachmentStoreUnavailableException("S3 is failing; circuit open", e);
        }
        catch (Exception e) when (IsTransient(e))
        {
            throw new AttachmentStoreUnavailableException("S3 is unreachable", e);
        }
    }

    private async Task EnsureBucketAsync(CancellationToken cancellationToken)
    {
        if (_bucketReady) return;
        await _bucketGate.WaitAsync(cancellationToken);
        try
        {
            if (_bucketReady) return;
            if (!await _client.BucketExistsAsync(new BucketExistsArgs().WithBucket(_bucket), cancellationToken))
            {
                await _client.MakeBucketAsync(new MakeBucketArgs().WithBucket(_bucket), cancellationToken);
                _logger.LogInformation("Created S3 bucket {Bucket}", _bucket);
            }
            _bucketReady = true;
        }
        finally
        {
            _bucketGate.Release();
        }
    }

    private static bool IsTransient(Exception e) => e switch
    {
        ObjectNotFoundException or BucketNotFoundException => false,
        HttpRequestException or IOException or SocketException or ConnectionException or InternalClientException => true,
        TaskCanceledException => true,
        MinioException minio => minio.InnerException is HttpRequestException or IOException or SocketException || minio.ServerResponse?.StatusCode >= System.Net.HttpStatusCode.InternalServerError,
        _ => false,
    };

    public void Dispose()
    {
        _client.Dispose();
        _bucketGate.Dispose();
    }
}
