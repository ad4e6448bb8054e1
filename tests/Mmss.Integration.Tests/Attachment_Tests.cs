using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Mmss.Integration.Tests.Infrastructure;
using static Mmss.Integration.Tests.Infrastructure.Stanzas;

namespace Mmss.Integration.Tests;

/// <summary>Spec 7.4: POST /attachment before the MMS, GET /attachment after it; limits and access control (local store).</summary>
[Collection(ServerCollection.Name)]
public class Attachment_Tests(ServerFixture fixture)
{
    private EmbeddedServer Server => fixture.Server;
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(60) };

    private Task<HttpResponseMessage> UploadAsync(byte[] body, AuthenticationHeaderValue? auth = null)
    {
        var request = SpecMultipart.Request(Server.HttpPort, body);
        request.Headers.Authorization = auth;
        return Http.SendAsync(request);
    }

    private Task<HttpResponseMessage> DownloadAsync(string userId, string messageId, string file, AuthenticationHeaderValue? auth = null, string? range = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get,
            $"http://127.0.0.1:{Server.HttpPort}/attachment?userid={Uri.EscapeDataString(userId)}&msgid={Uri.EscapeDataString(messageId)}&file={Uri.EscapeDataString(file)}");
        request.Headers.Authorization = auth;
        if (range is not null) request.Headers.TryAddWithoutValidation("Range", range);
        return Http.SendAsync(request);
    }

    private static AuthenticationHeaderValue Basic(string udn, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{udn}:{password}")));

    private async Task UsersAsync(params string[] udns)
    {
        foreach (var udn in udns) await Server.ProvisionUserAsync(udn, "pw");
    }

    [Fact]
    public async Task Post_then_mms_then_recipient_get_as_in_the_spec_flow()
    {
        await UsersAsync("6701", "6702");
        var picture = RandomNumberGenerator.GetBytes(300_000);
        await using var sender = await Server.LoginAsync("6701", "pw");
        await using var recipient = await Server.LoginAsync("6702", "pw");

        var upload = await UploadAsync(SpecMultipart.Body("6701", "1407488357552", ("IMG_20120805_144731_0.jpg", picture)));
        Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        await sender.SendRawAsync(Mms("1407488357552", "6702", extra: "<property><name>attach</name><value type=\"string\">IMG_20120805_144731_0.jpg</value></property>"));
        var mms = await recipient.ReadUntilAsync(e => IsMessage(e, "1407488357552"));
        Assert.Equal("IMG_20120805_144731_0.jpg", Property(mms, "attach"));

        var download = await DownloadAsync("6701", "1407488357552", "IMG_20120805_144731_0.jpg");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("image/jpeg", download.Content.Headers.ContentType!.MediaType);
        Assert.Equal(picture.Length, download.Content.Headers.ContentLength);
        Assert.Equal(picture, await download.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Utf8_file_names_round_trip_with_an_rfc_6266_disposition()
    {
        await UsersAsync("6711");
        await using var sender = await Server.LoginAsync("6711", "pw");
        const string name = "照片 现场 01.jpg";
        var content = Encoding.UTF8.GetBytes("chinese name");
        Assert.Equal(HttpStatusCode.OK, (await UploadAsync(SpecMultipart.Body("6711", "zh-1", (name, content)))).StatusCode);
        var download = await DownloadAsync("6711", "zh-1", name);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(name, download.Content.Headers.ContentDisposition!.FileNameStar);
        Assert.Equal(content, await download.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Range_requests_return_the_requested_bytes()
    {
        await UsersAsync("6721");
        await using var sender = await Server.LoginAsync("6721", "pw");
        var content = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        await UploadAsync(SpecMultipart.Body("6721", "range-1", ("data.bin", content)));
        var partial = await DownloadAsync("6721", "range-1", "data.bin", range: "bytes=100-199");
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal("bytes 100-199/1000", partial.Content.Headers.ContentRange!.ToString());
        Assert.Equal(content[100..200], await partial.Content.ReadAsByteArrayAsync());
        var tail = await DownloadAsync("6721", "range-1", "data.bin", range: "bytes=-10");
        Assert.Equal(content[990..], await tail.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Upload_without_a_live_session_or_credentials_is_refused_with_403()
    {
        await UsersAsync("6731");
        var refused = await UploadAsync(SpecMultipart.Body("6731", "nosession-1", ("a.jpg", [1, 2, 3])));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("no live XMPP session", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, (await UploadAsync(SpecMultipart.Body("6731", "nosession-1", ("a.jpg", [1])), Basic("6731", "wrong"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await UploadAsync(SpecMultipart.Body("6731", "nosession-1", ("a.jpg", [1])), Basic("6731", "pw"))).StatusCode);
    }

    [Fact]
    public async Task Download_is_allowed_to_the_recipient_and_refused_to_others()
    {
        await UsersAsync("6741", "6742", "6743");
        var auth = Basic("6741", "pw");
        await UploadAsync(SpecMultipart.Body("6741", "acl-1", ("doc.pdf", [1, 2, 3])), auth);
        await using (var sender = await Server.LoginAsync("6741", "pw"))
        {
            await sender.SendRawAsync(Mms("acl-1", "6742", extra: "<property><name>attach</name><value type=\"string\"> doc.pdf </value></property>"));
            await sender.SendRawAsync("<iq type='get' id='sync'><ping xmlns='urn:xmpp:ping'/></iq>");
            await sender.ReadUntilAsync(e => e.Attribute("id") == "sync");
        }
        Assert.Equal(HttpStatusCode.OK, (await DownloadAsync("6741", "acl-1", "doc.pdf", Basic("6742", "pw"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await DownloadAsync("6741", "acl-1", "doc.pdf", Basic("6743", "pw"))).StatusCode);
        // Without credentials a download is the sender's only while a session of the sender is live from this address;
        // the sender's connection is closed above, but its session ends at the user grain a moment later.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        HttpStatusCode anonymous;
        while ((anonymous = (await DownloadAsync("6741", "acl-1", "doc.pdf")).StatusCode) == HttpStatusCode.OK && DateTime.UtcNow < deadline)
            await Task.Delay(100);
        Assert.Equal(HttpStatusCode.Forbidden, anonymous);
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("..")]
    [InlineData("a/b.jpg")]
    [InlineData("bad\u0001name.jpg")]
    public async Task Path_traversal_and_control_characters_in_file_are_refused_with_400(string file)
    {
        var response = await DownloadAsync("1101", "any", file, Basic("1101", "pw-1101"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Path_in_an_uploaded_filename_is_refused_with_400()
    {
        await UsersAsync("6751");
        var response = await UploadAsync(SpecMultipart.Body("6751", "trav-1", ("../../escape.jpg", [1])), Basic("6751", "pw"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Limits_on_file_size_and_file_count_give_413()
    {
        await UsersAsync("6761");
        var auth = Basic("6761", "pw");
        var tooBig = await UploadAsync(SpecMultipart.Body("6761", "big-1", ("big.bin", new byte[5 * 1024 * 1024])), auth);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await DownloadAsync("6761", "big-1", "big.bin", auth)).StatusCode);
        var tooMany = await UploadAsync(SpecMultipart.Body("6761", "many-1", ("1", [1]), ("2", [2]), ("3", [3]), ("4", [4])), auth);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooMany.StatusCode);
    }

    [Fact]
    public async Task Malformed_uploads_give_400_with_a_reason()
    {
        var notMultipart = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{Server.HttpPort}/attachment") { Content = new StringContent("x") };
        var response = await Http.SendAsync(notMultipart);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("multipart/form-data", await response.Content.ReadAsStringAsync());
        var unknownPart = await UploadAsync(SpecMultipart.Body("1101", "p-1", "photo", ("a.jpg", [1])), Basic("1101", "pw-1101"));
        Assert.Equal(HttpStatusCode.BadRequest, unknownPart.StatusCode);
    }

    [Fact]
    public async Task Body_cut_before_the_closing_boundary_gives_400_not_500()
    {
        // Found by the multipart fuzz target (tests/fuzz): the multipart reader's IOException escaped as a 500.
        await UsersAsync("6775");
        var whole = SpecMultipart.Body("6775", "cut-1", ("a.jpg", [1, 2, 3]));
        var cut = whole[..^Encoding.ASCII.GetByteCount($"\r\n--{SpecMultipart.Boundary}--\r\n")];
        var response = await UploadAsync(cut, Basic("6775", "pw"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("multipart", await response.Content.ReadAsStringAsync());
    }

    // Found by the multipart fuzz target (tests/fuzz): Microsoft.Net.Http.Headers throws ArgumentNullException for
    // `filename*` without a value, and for RFC 5987 `utf-7''...` asks for the UTF-7 encoding, which .NET refuses with
    // NotSupportedException; both escaped as a 500.
    [Theory]
    [InlineData("6776", "star-1", "filename*")]
    [InlineData("6777", "star-2", "filename*=utf-7''a.jpg")]
    public async Task File_part_with_a_bad_filename_star_gives_400_not_500(string udn, string messageId, string disposition)
    {
        await UsersAsync(udn);
        var body = Encoding.UTF8.GetString(SpecMultipart.Body(udn, messageId, ("a.jpg", [65, 66])));
        var response = await UploadAsync(Encoding.UTF8.GetBytes(body.Replace("filename=\"a.jpg\"", disposition)), Basic(udn, "pw"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Content-Disposition", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Correctly_spelled_attachment_parts_are_accepted_too()
    {
        await UsersAsync("6771");
        var response = await UploadAsync(SpecMultipart.Body("6771", "spelled-1", "attachment", ("a.jpg", [1, 2])), Basic("6771", "pw"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Mms_naming_a_file_never_uploaded_fails_with_3()
    {
        await UsersAsync("6781", "6782");
        await using var sender = await Server.LoginAsync("6781", "pw");
        await sender.SendRawAsync(Mms("missing-1", "6782", extra: "<property><name>attach</name><value type=\"string\">nothere.jpg</value></property>"));
        Assert.Equal("3", Property(await sender.ReadUntilAsync(e => IsMessage(e, "missing-1")), "ReturnCode"));
    }

    [Fact]
    public async Task Mms_waits_for_an_upload_still_in_flight()
    {
        await UsersAsync("6791", "6792");
        await using var sender = await Server.LoginAsync("6791", "pw");
        await using var recipient = await Server.LoginAsync("6792", "pw");
        await sender.SendRawAsync(Mms("late-1", "6792", extra: "<property><name>attach</name><value type=\"string\">a.jpg,b.jpg</value></property>"));
        Assert.Equal(HttpStatusCode.OK, (await UploadAsync(SpecMultipart.Body("6791", "late-1", ("a.jpg", [1]), ("b.jpg", [2])))).StatusCode);
        Assert.Equal("a.jpg,b.jpg", Property(await recipient.ReadUntilAsync(e => IsMessage(e, "late-1")), "attach"));
    }

    [Fact]
    public async Task Concurrent_uploads_are_all_stored_intact()
    {
        await UsersAsync("6801");
        var files = Enumerable.Range(0, 12).Select(i => (Id: $"conc-{i}", Content: RandomNumberGenerator.GetBytes(200_000 + i))).ToArray();
        var responses = await Task.WhenAll(files.Select(f => UploadAsync(SpecMultipart.Body("6801", f.Id, ("f.bin", f.Content)), Basic("6801", "pw"))));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        foreach (var f in files)
        {
            Assert.Equal(f.Content, await (await DownloadAsync("6801", f.Id, "f.bin", Basic("6801", "pw"))).Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task Daily_upload_allowance_per_user_gives_413_once_used_up()
    {
        await UsersAsync("6811");
        var auth = Basic("6811", "pw");
        var threeMiB = new byte[3 * 1024 * 1024];
        Assert.Equal(HttpStatusCode.OK, (await UploadAsync(SpecMultipart.Body("6811", "day-1", ("a.bin", threeMiB)), auth)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await UploadAsync(SpecMultipart.Body("6811", "day-2", ("b.bin", threeMiB)), auth)).StatusCode);
        var refused = await UploadAsync(SpecMultipart.Body("6811", "day-3", ("c.bin", threeMiB)), auth);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await DownloadAsync("6811", "day-3", "c.bin", auth)).StatusCode);
    }

    [Fact]
    public async Task Request_over_the_size_limit_is_refused_with_413_before_it_is_read()
    {
        await UsersAsync("6821");
        var body = SpecMultipart.Body("6821", "req-1", ("a.bin", new byte[14 * 1024 * 1024]));
        HttpResponseMessage response;
        try
        {
            response = await UploadAsync(body, Basic("6821", "pw"));
        }
        catch (HttpRequestException)
        {
            // The server may answer and close before the client has finished sending; the answer is then read raw.
            using var tcp = new System.Net.Sockets.TcpClient("127.0.0.1", Server.HttpPort);
            var stream = tcp.GetStream();
            var head = Encoding.ASCII.GetBytes($"POST /attachment HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={SpecMultipart.Boundary}\r\nContent-Length: {body.Length}\r\n\r\n");
            await stream.WriteAsync(head);
            var reply = new byte[64];
            var read = await stream.ReadAsync(reply);
            Assert.Contains(" 413 ", Encoding.ASCII.GetString(reply, 0, read));
            return;
        }
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Local_store_prunes_files_stored_before_the_cutoff_only()
    {
        var root = Path.Combine(Path.GetTempPath(), "mmss-prune-" + Guid.NewGuid().ToString("N")[..8]);
        var store = new Mmss.Gateway.Attachments.LocalAttachmentStore(root);
        try
        {
            var old = new Mmss.Gateway.Attachments.AttachmentKey("1", "old", "a.bin");
            var fresh = new Mmss.Gateway.Attachments.AttachmentKey("1", "fresh", "b.bin");
            await store.PutAsync(old, new MemoryStream([1]), CancellationToken.None);
            await store.PutAsync(fresh, new MemoryStream([2]), CancellationToken.None);
            File.SetLastWriteTimeUtc(Path.Combine(root, old.Path), DateTime.UtcNow.AddDays(-30));
            Assert.Equal(1, await store.PruneAsync(DateTimeOffset.UtcNow.AddDays(-14), CancellationToken.None));
            Assert.Null(await store.GetLengthAsync(old, CancellationToken.None));
            Assert.Equal(1, await store.GetLengthAsync(fresh, CancellationToken.None));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
