using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Mmss.Gateway.Diagnostics;
using Mmss.Gateway.Provisioning;
using Mmss.GrainInterfaces;

namespace Mmss.Gateway.Attachments;

/// <summary>POST and GET /attachment as spec 7.4.1 and 7.4.2 describe them, streamed in both directions.</summary>
public static class AttachmentEndpoints
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();
    private static readonly string? MultipartReaderAssembly = typeof(MultipartReader).Assembly.GetName().Name;

    public static void MapAttachmentEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/attachment", UploadAsync).DisableAntiforgery();
        app.MapGet("/attachment", DownloadAsync);
    }

    private static async Task<IResult> UploadAsync(HttpContext http, IAttachmentStore store, AttachmentAccessCheck access, UploadQuota quota,
        IGrainFactory grains, GatewayEvents events, IOptions<AttachmentOptions> options, ILoggerFactory loggers)
    {
        var log = loggers.CreateLogger("Mmss.Attachments");
        var limits = options.Value;
        try
        {
            if (http.Request.ContentLength > limits.MaxRequestBytes)
                throw new AttachmentRefusedException(AttachmentFailure.RequestTooLarge, $"a request may have at most {limits.MaxRequestBytes} bytes");
            if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit) bodyLimit.MaxRequestBodySize = limits.MaxRequestBytes;
            var boundary = Boundary(http.Request.ContentType);
            var reader = new MultipartReader(boundary, http.Request.Body) { HeadersLengthLimit = 16 * 1024 };
            var fields = new Dictionary<string, string>(StringComparer.Ordinal);
            var stored = new List<string>();
            var authorised = false;
            var emergency = false;
            string? userId = null, messageId = null;
            while (await reader.ReadNextSectionAsync(http.RequestAborted) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) ||
                    !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
                    throw new AttachmentRefusedException(AttachmentFailure.BadRequest, "every part needs Content-Disposition: form-data");
                var name = disposition.Name.Value ?? "";
                var (isFile, fileName) = FilePart(disposition);
                if (!isFile)
                {
                    if (fields.Count >= 16) throw new AttachmentRefusedException(AttachmentFailure.BadRequest, "too many form fields");
                    fields[name] = await ReadFieldAsync(section.Body, http.RequestAborted);
                    continue;
                }
                if (!IsFilePart(name)) throw new AttachmentRefusedException(AttachmentFailure.BadRequest, $"unexpected file part '{name}'; parts are attatchment-N");
                if (!authorised)
                {
                    // spec 7.4.1: userid and msgid come before the files; they say where the files belong.
                    userId = fields.GetValueOrDefault("userid")?.Trim();
                    messageId = fields.GetValueOrDefault("msgid")?.Trim();
                    if (DialNumber.Validate(userId) is { } badUser) throw new AttachmentRefusedException(AttachmentFailure.BadRequest, "userid: " + badUser);
                    if (AttachmentNamesRules.ValidateMessageId(messageId) is { } badId) throw new AttachmentRefusedException(AttachmentFailure.BadRequest, badId);
                    if (await access.RefusalAsync(http, [userId!]) is { } refusal) throw new AttachmentRefusedException(AttachmentFailure.NotAllowed, refusal);
                    // Vendor field priority=emergency: the files of an emergency MMS skip the daily allowance.
                    emergency = string.Equals(fields.GetValueOrDefault(MmsPriority.UploadField)?.Trim(), MmsPriority.Emergency, StringComparison.OrdinalIgnoreCase);
                    if (emergency && !await grains.User(userId!).MaySendEmergencyAsync())
                        throw new AttachmentRefusedException(AttachmentFailure.NotAllowed, $"{userId} is not allowed to send emergency messages");
                    authorised = true;
                }
                if (AttachmentNamesRules.ValidateFileName(fileName) is { } badName) throw new AttachmentRefusedException(AttachmentFailure.BadRequest, badName);
                if (stored.Count >= limits.MaxFilesPerMessage)
                    throw new AttachmentRefusedException(AttachmentFailure.TooManyFiles, $"a message may have at most {limits.MaxFilesPerMessage} files");
                var remaining = await quota.RemainingAsync(userId!, emergency);
                if (remaining == 0) throw new AttachmentRefusedException(AttachmentFailure.QuotaExceeded, "the daily upload allowance is used up");
                var limited = new LimitedStream(section.Body, Math.Min(limits.MaxFileBytes, remaining));
                try
                {
                    await store.PutAsync(new AttachmentKey(userId!, messageId!, fileName!), limited, http.RequestAborted);
                }
                finally
                {
                    // What was read counts, stored or not: a refused or broken upload still used the link and the spool.
                    await quota.AddAsync(userId!, limited.BytesRead, emergency);
                    GatewayMetrics.AttachmentBytesUploaded(limited.BytesRead);
                }
                stored.Add(fileName!);
                log.LogInformation("{Udn} uploaded {File} ({Bytes} bytes) for message {MessageId}", userId, fileName, limited.BytesRead, messageId);
                events.AttachmentUploaded(userId!, messageId!, fileName!, limited.BytesRead, Address(http));
            }
            if (stored.Count == 0) throw new AttachmentRefusedException(AttachmentFailure.BadRequest, "no attatchment-N part");
            await grains.GetGrain<IMessageGrain>(MessageKey.For(userId!, messageId!)).RecordUploadAsync(stored.ToArray());
            return Results.Ok(new { userid = userId, msgid = messageId, files = stored });
        }
        catch (Exception e) when (Refusal(e) is { } refused)
        {
            log.LogWarning("Upload from {Address} refused: {Status} {Reason}", http.Connection.RemoteIpAddress, refused.Failure.StatusCode(), refused.Message);
            return Refused(http, refused);
        }
    }

    private static async Task<IResult> DownloadAsync(HttpContext http, string? userid, string? msgid, string? file, IAttachmentStore store,
        AttachmentAccessCheck access, IGrainFactory grains, GatewayEvents events, ILoggerFactory loggers)
    {
        var log = loggers.CreateLogger("Mmss.Attachments");
        try
        {
            if (DialNumber.Validate(userid) is { } badUser) throw new AttachmentRefusedException(AttachmentFailure.BadRequest, "userid: " + badUser);
            if (AttachmentNamesRules.ValidateMessageId(msgid) is { } badId) throw new AttachmentRefusedException(AttachmentFailure.BadRequest, badId);
            if (AttachmentNamesRules.ValidateFileName(file) is { } badName) throw new AttachmentRefusedException(AttachmentFailure.BadRequest, "file: " + badName);
            var message = await grains.GetGrain<IMessageGrain>(MessageKey.For(userid!, msgid!)).GetAttachmentAccessAsync();
            if (await access.RefusalAsync(http, [userid!, .. message.Recipients]) is { } refusal)
                throw new AttachmentRefusedException(AttachmentFailure.NotAllowed, refusal);
            var key = new AttachmentKey(userid!, msgid!, file!);
            if (!message.UploadedFiles.Contains(file!) || await store.GetLengthAsync(key, http.RequestAborted) is not { } length)
                throw new AttachmentRefusedException(AttachmentFailure.NotFound, "no such attachment");

            var response = http.Response;
            response.ContentType = ContentTypes.TryGetContentType(file!, out var type) ? type : "application/octet-stream";
            response.Headers.ContentDisposition = ContentDisposition(file!);
            response.Headers.AcceptRanges = "bytes";
            var (offset, count) = (0L, length);
            if (RangeHeaderValue.TryParse(http.Request.Headers.Range.ToString(), out var range) && range.Unit == "bytes" && range.Ranges.Count == 1)
            {
                var r = range.Ranges.First();
                (offset, count) = r.From is { } from
                    ? (from, Math.Min(length, (r.To ?? length - 1) + 1) - from)
                    : (Math.Max(0, length - (r.To ?? 0)), Math.Min(length, r.To ?? 0));
                if (offset >= length || count <= 0)
                {
                    response.Headers.ContentRange = $"bytes */{length}";
                    return Results.StatusCode(StatusCodes.Status416RangeNotSatisfiable);
                }
                response.StatusCode = StatusCodes.Status206PartialContent;
                response.Headers.ContentRange = $"bytes {offset}-{offset + count - 1}/{length}";
            }
            response.ContentLength = count;
            await store.CopyToAsync(key, offset, count, response.Body, http.RequestAborted);
            GatewayMetrics.AttachmentBytesDownloaded(count);
            events.AttachmentDownloaded(userid!, msgid!, file!, count, Address(http));
            return Results.Empty;
        }
        catch (Exception e) when (Refusal(e) is { } refused)
        {
            log.LogWarning("Download of {File} ({Udn}/{MessageId}) by {Address} refused: {Status} {Reason}",
                file, userid, msgid, http.Connection.RemoteIpAddress, refused.Failure.StatusCode(), refused.Message);
            return Refused(http, refused);
        }
    }

    /// <summary>The refusal's status and reason; a client refused for an unavailable store is told when to try again (RFC 9110 §10.2.3).</summary>
    private static IResult Refused(HttpContext http, AttachmentRefusedException refused)
    {
        if (refused.Failure == AttachmentFailure.StoreUnavailable)
            http.Response.Headers.RetryAfter = ((int)S3AttachmentStore.BreakDuration.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Results.Json(new { error = refused.Message }, statusCode: refused.Failure.StatusCode());
    }

    private static string Address(HttpContext http) =>
        http.Connection.RemoteIpAddress is { } address ? (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString() : "unknown";

    private static AttachmentRefusedException? Refusal(Exception e) => e switch
    {
        AttachmentRefusedException refused => refused,
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => new(AttachmentFailure.RequestTooLarge, "the request is too large"),
        BadHttpRequestException { StatusCode: StatusCodes.Status408RequestTimeout } => new(AttachmentFailure.RequestTimeout, "the request body arrives too slowly"),
        BadHttpRequestException or InvalidDataException => new(AttachmentFailure.BadRequest, "malformed multipart body: " + e.Message),
        // The multipart reader throws a bare IOException when the body ends before the closing boundary (found by tests/fuzz).
        // Only its own: an IOException of the store (a full disk) is not the client's fault.
        IOException when e.Source == MultipartReaderAssembly => new(AttachmentFailure.BadRequest, "malformed multipart body: " + e.Message),
        AttachmentStoreUnavailableException => new(AttachmentFailure.StoreUnavailable, "attachment storage is unavailable; try again later"),
        _ => null,
    };

    /// <summary>
    /// Whether the part is a file, and its name (RFC 6266: filename* before filename). Microsoft.Net.Http.Headers throws
    /// ArgumentNullException for a "filename*" without a value, and NotSupportedException for one in UTF-7, an encoding
    /// .NET refuses (both found by tests/fuzz): a malformed part, not a server error.
    /// </summary>
    private static (bool IsFile, string? FileName) FilePart(ContentDispositionHeaderValue disposition)
    {
        try
        {
            if (!disposition.IsFileDisposition()) return (false, null);
            return (true, disposition.FileNameStar.HasValue ? disposition.FileNameStar.Value : HeaderUtilities.RemoveQuotes(disposition.FileName).Value);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            throw new AttachmentRefusedException(AttachmentFailure.BadRequest, "malformed Content-Disposition: " + e.Message);
        }
    }

    private static bool IsFilePart(string name) =>
        (name.StartsWith("attatchment-", StringComparison.Ordinal) || name.StartsWith("attachment-", StringComparison.Ordinal)) &&
        int.TryParse(name.AsSpan(name.IndexOf('-') + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _);

    private static string Boundary(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media) || !media.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            throw new AttachmentRefusedException(AttachmentFailure.BadRequest, "the body must be multipart/form-data");
        var boundary = HeaderUtilities.RemoveQuotes(media.Boundary).Value;
        if (string.IsNullOrWhiteSpace(boundary) || boundary.Length > 200)
            throw new AttachmentRefusedException(AttachmentFailure.BadRequest, "a multipart boundary is required");
        return boundary;
    }

    private static async Task<string> ReadFieldAsync(Stream body, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(new LimitedStream(body, 4096), Encoding.UTF8);
        try
        {
            return await reader.ReadToEndAsync(cancellationToken);
        }
        catch (AttachmentRefusedException)
        {
            throw new AttachmentRefusedException(AttachmentFailure.BadRequest, "form fields have at most 4096 bytes");
        }
    }

    /// <summary>RFC 6266: an ASCII fallback plus the exact UTF-8 name in filename*.</summary>
    private static string ContentDisposition(string fileName)
    {
        var header = new ContentDispositionHeaderValue("attachment");
        header.SetHttpFileName(fileName);
        return header.ToString();
    }
}
