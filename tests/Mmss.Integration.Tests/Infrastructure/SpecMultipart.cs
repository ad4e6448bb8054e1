using System.Text;

namespace Mmss.Integration.Tests.Infrastructure;

/// <summary>An upload body exactly as spec 7.4.1 shows it: text fields with 8bit encoding, files as attatchment-N, UTF-8 names.</summary>
public static class SpecMultipart
{
    public const string Boundary = "CA1A6kEhruf6IXduNFENt6ICXxH5LhEdDNMR";

    public static byte[] Body(string userId, string messageId, params (string Name, byte[] Content)[] files) =>
        Body(userId, messageId, "attatchment", files);

    public static byte[] Body(string userId, string messageId, string partPrefix, params (string Name, byte[] Content)[] files) =>
        Body(userId, messageId, partPrefix, [], files);

    /// <param name="extraFields">more text fields after the spec's three (the vendor field priority, say).</param>
    public static byte[] Body(string userId, string messageId, string partPrefix, (string Name, string Value)[] extraFields,
        params (string Name, byte[] Content)[] files)
    {
        var body = new MemoryStream();
        void Text(string text) => body.Write(Encoding.UTF8.GetBytes(text));
        void Field(string name, string value) =>
            Text($"--{Boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\nContent-Type: text/plain; charset=UTF-8\r\n" +
                 $"Content-Transfer-Encoding: 8bit\r\n\r\n{value}\r\n");
        Field("userid", userId);
        Field("msgid", messageId);
        Field("date", "2026-11-25 10:00:00");
        foreach (var (name, value) in extraFields) Field(name, value);
        for (var i = 0; i < files.Length; i++)
        {
            Text($"--{Boundary}\r\nContent-Disposition: form-data; name=\"{partPrefix}-{i}\"; filename=\"{files[i].Name}\"\r\n" +
                 "Content-Type: application/octet-stream; charset=UTF-8\r\nContent-Transfer-Encoding: binary\r\n\r\n");
            body.Write(files[i].Content);
            Text("\r\n");
        }
        Text($"--{Boundary}--\r\n");
        return body.ToArray();
    }

    public static HttpRequestMessage Request(int httpPort, byte[] body, string host = EmbeddedServer.Domain)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"http://{host}:{httpPort}/attachment")
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", $"multipart/form-data; boundary={Boundary}");
        request.Headers.TryAddWithoutValidation("charset", "UTF-8");
        request.Headers.ConnectionClose = false;
        return request;
    }
}
