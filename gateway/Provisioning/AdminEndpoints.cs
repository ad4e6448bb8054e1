using Mmss.Gateway.Hosting;

namespace Mmss.Gateway.Provisioning;

/// <summary>The provisioning API: /admin/users, /admin/groups and /admin/peers, JSON, behind a bearer token.</summary>
public static class AdminEndpoints
{
    public static void MapAdminEndpoints(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin").AddEndpointFilter(RequireToken);

        admin.MapGet("/users/{udn}", async Task<IResult> (string udn, Provisioner p) =>
            await p.GetUserAsync(udn) is { } user ? Results.Ok(user) : Results.NotFound(new { error = $"user {udn} not found" }));
        admin.MapPost("/users", async Task<IResult> (UserRequest request, Provisioner p) =>
        {
            var result = await p.CreateUserAsync(request);
            if (result.Outcome == ProvisioningOutcome.Exists)
                return Results.Conflict(new { error = $"user {request.Udn} exists; PUT /admin/users/{request.Udn} changes it" });
            return await ToResult(result, $"/admin/users/{request.Udn}", () => p.GetUserAsync(request.Udn!));
        });
        admin.MapPut("/users/{udn}", async Task<IResult> (string udn, UserRequest request, Provisioner p) =>
        {
            if (request.Udn is not null && request.Udn != udn) return Results.BadRequest(new { error = "udn in the body differs from the path" });
            return await ToResult(await p.UpsertUserAsync(request with { Udn = udn }), $"/admin/users/{udn}", () => p.GetUserAsync(udn));
        });
        admin.MapDelete("/users/{udn}", async Task<IResult> (string udn, Provisioner p) =>
            await p.DeleteUserAsync(udn) ? Results.NoContent() : Results.NotFound(new { error = $"user {udn} not found" }));

        admin.MapGet("/groups/{gdn}", async Task<IResult> (string gdn, Provisioner p) =>
            await p.GetGroupAsync(gdn) is { } group ? Results.Ok(group) : Results.NotFound(new { error = $"group {gdn} not found" }));
        admin.MapPost("/groups", async Task<IResult> (GroupRequest request, Provisioner p) =>
        {
            if (request.Gdn is not null && await p.GetGroupAsync(request.Gdn) is not null)
                return Results.Conflict(new { error = $"group {request.Gdn} exists; PUT /admin/groups/{request.Gdn} changes it" });
            return await ToResult(await p.UpsertGroupAsync(request), $"/admin/groups/{request.Gdn}", () => p.GetGroupAsync(request.Gdn!));
        });
        admin.MapPut("/groups/{gdn}", async Task<IResult> (string gdn, GroupRequest request, Provisioner p) =>
        {
            if (request.Gdn is not null && request.Gdn != gdn) return Results.BadRequest(new { error = "gdn in the body differs from the path" });
            return await ToResult(await p.UpsertGroupAsync(request with { Gdn = gdn }), $"/admin/groups/{gdn}", () => p.GetGroupAsync(gdn));
        });
        admin.MapDelete("/groups/{gdn}", async Task<IResult> (string gdn, Provisioner p) =>
            await p.DeleteGroupAsync(gdn) ? Results.NoContent() : Results.NotFound(new { error = $"group {gdn} not found" }));

        admin.MapGet("/peers", (PeerProvisioner p) => Results.Ok(p.List()));
        admin.MapGet("/peers/{domain}", IResult (string domain, PeerProvisioner p) =>
            p.Get(domain) is { } peer ? Results.Ok(peer) : Results.NotFound(new { error = $"peer {domain} not found" }));
        admin.MapPost("/peers", async Task<IResult> (PeerRequest request, PeerProvisioner p) =>
        {
            if (request.Domain is not null && p.Get(request.Domain) is not null)
                return Results.Conflict(new { error = $"peer {request.Domain} exists; PUT /admin/peers/{request.Domain} changes it" });
            return ToResult(await p.UpsertAsync(request), $"/admin/peers/{request.Domain}", () => p.Get(request.Domain!));
        });
        admin.MapPut("/peers/{domain}", async Task<IResult> (string domain, PeerRequest request, PeerProvisioner p) =>
        {
            if (request.Domain is not null && !string.Equals(request.Domain, domain, StringComparison.OrdinalIgnoreCase))
                return Results.BadRequest(new { error = "domain in the body differs from the path" });
            return ToResult(await p.UpsertAsync(request with { Domain = domain }), $"/admin/peers/{domain}", () => p.Get(domain));
        });
        admin.MapDelete("/peers/{domain}", async Task<IResult> (string domain, PeerProvisioner p) =>
        {
            var result = await p.DeleteAsync(domain);
            return result.Outcome == ProvisioningOutcome.Updated ? Results.NoContent() : ToResult(result, "", () => (object?)null);
        });
    }

    private static IResult ToResult<T>(ProvisioningResult result, string location, Func<T> current) => result.Outcome switch
    {
        ProvisioningOutcome.Invalid => Results.BadRequest(new { error = result.Error }),
        ProvisioningOutcome.Conflict => Results.Conflict(new { error = result.Error }),
        ProvisioningOutcome.NotFound => Results.NotFound(new { error = result.Error }),
        ProvisioningOutcome.Created => Results.Created(location, current()),
        _ => Results.Ok(current()),
    };

    private static async Task<IResult> ToResult<T>(ProvisioningResult result, string location, Func<Task<T>> current)
    {
        var value = result.Outcome is ProvisioningOutcome.Invalid or ProvisioningOutcome.Conflict or ProvisioningOutcome.NotFound ? default : await current();
        return ToResult(result, location, () => value);
    }

    private static async ValueTask<object?> RequireToken(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (!http.RequestServices.GetRequiredService<AdminToken>().Authorizes(http.Request))
        {
            http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Mmss.Admin")
                .LogWarning("Admin API refused {Method} {Path} from {Address}: missing or wrong bearer token",
                    http.Request.Method, http.Request.Path, http.Connection.RemoteIpAddress);
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Results.Json(new { error = "a valid bearer token is required (Mmss:Admin:Token)" }, statusCode: StatusCodes.Status401Unauthorized);
        }
        return await next(context);
    }
}
