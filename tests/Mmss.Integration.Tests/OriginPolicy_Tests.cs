using Microsoft.AspNetCore.Http;
using Mmss.Gateway.Configuration;
using Mmss.Gateway.WebSocket;

namespace Mmss.Integration.Tests;

/// <summary>Which pages may open the XMPP WebSocket: the page's own origin, listed ones, and non-browser clients.</summary>
public class OriginPolicy_Tests
{
    private static HttpRequest Request(string? origin, string scheme = "http", string host = "mmss.example:8080")
    {
        var context = new DefaultHttpContext();
        context.Request.Scheme = scheme;
        context.Request.Host = new HostString(host);
        if (origin is not null) context.Request.Headers.Origin = origin;
        return context.Request;
    }

    [Theory]
    [InlineData("http://mmss.example:8080", true)]
    [InlineData("http://MMSS.example:8080", true)]
    [InlineData("https://mmss.example:8080", false)]   // another scheme is another origin
    [InlineData("http://mmss.example:8081", false)]
    [InlineData("http://evil.example", false)]
    [InlineData("null", false)]                        // sandboxed frames and file:// pages
    public void Same_origin_only_by_default(string origin, bool allowed) =>
        Assert.Equal(allowed, OriginPolicy.Check(Request(origin), new XmppWebSocketOptions()).Allowed);

    [Fact]
    public void A_client_that_sends_no_origin_is_not_a_browser_and_is_let_in() =>
        Assert.True(OriginPolicy.Check(Request(origin: null), new XmppWebSocketOptions()).Allowed);

    [Fact]
    public void Listed_origins_and_the_wildcard_are_let_in()
    {
        var listed = new XmppWebSocketOptions { AllowedOrigins = ["https://dc.example.org"] };
        Assert.True(OriginPolicy.Check(Request("https://dc.example.org"), listed).Allowed);
        var refused = OriginPolicy.Check(Request("https://other.example.org"), listed);
        Assert.False(refused.Allowed);
        Assert.Contains("Mmss:WebSocket:AllowedOrigins", refused.Reason);
        Assert.True(OriginPolicy.Check(Request("https://any.example"), new XmppWebSocketOptions { AllowedOrigins = ["*"] }).Allowed);
    }

    [Fact]
    public void An_allowed_origin_that_is_not_an_origin_stops_the_start_with_a_message()
    {
        var options = new XmppWebSocketOptions { AllowedOrigins = ["dc.example.org"] };
        var errors = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).ToList();
        Assert.Contains(errors, e => e.ErrorMessage!.Contains("scheme://host[:port]"));
    }
}
