using System.Reflection;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Mmss.Gateway.Attachments;
using Orleans;

namespace Mmss.Fuzz.Targets;

/// <summary>
/// POST /attachment (spec 7.4.1): the gateway's own handler, fed a multipart body. Whatever the body, the handler must
/// answer with a status of its error table (AttachmentFailure), never let an exception out (that is a 500 and a stack
/// trace in the log). The input's first line is the boundary parameter of the Content-Type; the rest is the body.
/// </summary>
public sealed class MultipartUploadTarget : FuzzTarget
{
    private static readonly MethodInfo Upload = typeof(AttachmentEndpoints).GetMethod("UploadAsync", BindingFlags.NonPublic | BindingFlags.Static)
        ?? throw new MissingMethodException(nameof(AttachmentEndpoints), "UploadAsync");

    private static readonly IOptions<AttachmentOptions> Limits = Options.Create(new AttachmentOptions
    {
        AccessPolicy = "Open",
        MaxFileBytes = 4096,
        MaxFilesPerMessage = 4,
        MaxDailyBytesPerUser = 16 * 1024,
        MaxRequestBytes = 1024 * 1024,
    });

    private static readonly int[] Answers = [StatusCodes.Status200OK, .. Enum.GetValues<AttachmentFailure>().Select(f => f.StatusCode())];

    public override string Name => "multipart";

    public override IReadOnlyList<string> InstrumentedAssemblies => ["Mmss.Gateway.dll"];

    public override string Run(byte[] input)
    {
        var newline = Array.IndexOf(input, (byte)'\n');
        var boundary = newline < 0 ? "" : Encoding.UTF8.GetString(input, 0, newline).TrimEnd('\r');
        var body = newline < 0 ? input : input[(newline + 1)..];
        var http = new DefaultHttpContext();
        http.Request.Method = "POST";
        http.Request.ContentType = "multipart/form-data; boundary=" + boundary;
        http.Request.ContentLength = body.Length;
        http.Request.Body = new MemoryStream(body, writable: false);
        var arguments = Upload.GetParameters().Select(p => p.ParameterType == typeof(HttpContext) ? http : Service(p.ParameterType)).ToArray();
        var task = (Task<IResult>)Upload.Invoke(null, arguments)!;
        if (!task.Wait(TimeSpan.FromSeconds(10))) throw new InvariantException("the upload handler did not finish within 10 s on an in-memory body");
        var result = task.GetAwaiter().GetResult();  // an exception out of the handler surfaces here, unwrapped
        var status = (result as IStatusCodeHttpResult)?.StatusCode ?? 200;
        if (!Answers.Contains(status)) throw new InvariantException($"status {status} is not in the attachment error table");
        return $"status {status}";
    }

    private static readonly Dictionary<Type, object?> Services = new()
    {
        [typeof(IOptions<AttachmentOptions>)] = Limits,
        [typeof(IGrainFactory)] = NullGrains.Factory,
        [typeof(IAttachmentStore)] = new DrainingStore(),
        [typeof(ILoggerFactory)] = NullLoggerFactory.Instance,
        [typeof(Mmss.GrainInterfaces.Peers.PeerTable)] = Mmss.GrainInterfaces.Peers.PeerTable.Empty,
    };

    /// <summary>
    /// What the handler's dependency injection would pass, found by type so that a new parameter does not break the
    /// target: the fakes above, the gateway's own classes built from them, null for the rest (the Open access policy and
    /// the in-memory store reach none of them; if one is reached, the NullReferenceException shows as a crash).
    /// </summary>
    private static object? Service(Type type)
    {
        lock (Services)
        {
            if (Services.TryGetValue(type, out var known)) return known;
            object? made = null;
            if (type.Assembly == typeof(AttachmentEndpoints).Assembly && type.IsClass && !type.IsAbstract)
            {
                var constructor = type.GetConstructors().Single();
                made = constructor.Invoke(constructor.GetParameters().Select(p => Service(p.ParameterType)).ToArray());
            }
            return Services[type] = made;
        }
    }

    /// <summary>Reads every file to its end, as the real stores do, and keeps nothing.</summary>
    private sealed class DrainingStore : IAttachmentStore
    {
        public async Task PutAsync(AttachmentKey key, Stream content, CancellationToken cancellationToken) =>
            await content.CopyToAsync(Stream.Null, cancellationToken);

        public Task<long?> GetLengthAsync(AttachmentKey key, CancellationToken cancellationToken) => Task.FromResult<long?>(null);

        public Task CopyToAsync(AttachmentKey key, long offset, long count, Stream destination, CancellationToken cancellationToken) =>
            Task.CompletedTask;

        public Task<int> PruneAsync(DateTimeOffset storedBefore, CancellationToken cancellationToken) => Task.FromResult(0);
    }

    public override IEnumerable<string> Dictionary() =>
    [
        "\r\n", "--", "\r\n\r\n", "Content-Disposition: form-data; ", "Content-Disposition: attachment; ", "name=\"", "filename=\"",
        "filename*=UTF-8''", "Content-Type: application/octet-stream", "attatchment-0", "attachment-1", "userid", "msgid", "date",
        "1102", "..", "/", "\\", "%2F", "\"", ";", "----WebKitFormBoundary7MA4YWxkTrZu0gW",
    ];

    public override IEnumerable<(string Name, byte[] Bytes)> Seeds()
    {
        // spec 7.4.1: userid, msgid, date, then one part per file named attatchment-N (sic).
        const string b = "----WebKitFormBoundary7MA4YWxkTrZu0gW";
        static string Field(string name, string value) => $"--{b}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n";
        static string File(int n, string name, string content) =>
            $"--{b}\r\nContent-Disposition: form-data; name=\"attatchment-{n}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n{content}\r\n";
        var fields = Field("userid", "1102") + Field("msgid", "1407488357552") + Field("date", "2014-08-08 16:59:17");
        yield return ("spec-one-file", Encoding.UTF8.GetBytes($"{b}\n{fields}{File(0, "AA.jpg", "\xFF\xD8\xFF\xE0JFIF")}--{b}--\r\n"));
        yield return ("spec-two-files", Encoding.UTF8.GetBytes($"{b}\n{fields}{File(0, "AA.jpg", "abc")}{File(1, "图片 1.png", "def")}--{b}--\r\n"));
        yield return ("filename-star", Encoding.UTF8.GetBytes(
            $"{b}\n{fields}--{b}\r\nContent-Disposition: form-data; name=\"attachment-0\"; filename*=UTF-8''%E5%9B%BE.jpg\r\n\r\nxyz\r\n--{b}--\r\n"));
        yield return ("file-before-fields", Encoding.UTF8.GetBytes($"{b}\n{File(0, "AA.jpg", "abc")}{fields}--{b}--\r\n"));
        // Found by this target, kept as seeds so that a regression fails at once (RELIABILITY.md 6, 7, 9).
        yield return ("unterminated", Encoding.UTF8.GetBytes($"{b}\n{fields}{File(0, "AA.jpg", "abc")}"));
        yield return ("filename-star-without-value", Encoding.UTF8.GetBytes(
            $"{b}\n{fields}--{b}\r\nContent-Disposition: form-data; name=\"attachment-0\"; filename*\r\n\r\nxyz\r\n--{b}--\r\n"));
        yield return ("filename-star-utf7", Encoding.UTF8.GetBytes(
            $"{b}\n{fields}--{b}\r\nContent-Disposition: form-data; name=\"attachment-0\"; filename*=utf-7''a.jpg\r\n\r\nxyz\r\n--{b}--\r\n"));
        yield return ("quoted-boundary", Encoding.UTF8.GetBytes($"\"{b}\"\n{fields}{File(0, "x.bin", new string('A', 300))}--{b}--\r\n"));
    }
}
