using System.Security.Cryptography;
using System.Text;
using Mmss.Gateway.Configuration;
using Mmss.Gateway.Hosting;
using Mmss.Gateway.Provisioning;
using Mmss.Protocol.Xml;
using Mmss.Protocol.Xmpp;

namespace Mmss.Gateway.C2s.Handlers;

/// <summary>
/// XEP-0077 in-band registration under Mmss:C2s:Registration: Off answers every set not-allowed; Admin needs the registration token;
/// Open takes anyone (labs). An authenticated user may change its password (§3.3) or cancel its account (§3.2) unless the
/// policy is Off. Accounts are made by the <see cref="Provisioner"/>, so they hold the same derived secrets as the admin
/// API's. Registrations are counted per address and throttled like failed logins; a wrong token counts as a failed login.
/// </summary>
public sealed class RegisterHandler(Provisioner provisioner, AdminToken adminToken) : IIqHandler
{
    public string Element => "query";
    public string Namespace => Namespaces.Register;
    public string? Feature => Namespaces.Register;
    public bool RequiresBoundSession => false;
    public bool AllowedBeforeAuthentication => true;

    private const string ClosedInstructions = "Accounts are provisioned by the operator; in-band registration is off.";

    public async ValueTask HandleAsync(C2sConnection connection, XmlElement iq, XmlElement payload)
    {
        var policy = connection.Services.Options.Registration;
        if (iq.Attribute("type") == "get")
        {
            await connection.SendAsync(Fields(connection, iq, policy));
            return;
        }
        if (policy == RegistrationPolicy.Off)
        {
            await Refuse(connection, iq, "not-allowed", "cancel", ClosedInstructions);
            return;
        }
        if (!connection.CredentialsMayTravel)
        {
            await Refuse(connection, iq, "not-allowed", "cancel", "negotiate TLS first");
            return;
        }
        var request = RegistrationRequest.Parse(payload);
        if (connection.Udn is { } udn)
        {
            await (request.Remove ? CancelAsync(connection, iq, udn) : ChangePasswordAsync(connection, iq, udn, request));
            return;
        }
        if (request.Remove)
        {
            await Refuse(connection, iq, "forbidden", "auth", "authenticate to cancel an account");
            return;
        }
        await RegisterAsync(connection, iq, request, policy);
    }

    private async ValueTask RegisterAsync(C2sConnection connection, XmlElement iq, RegistrationRequest request, RegistrationPolicy policy)
    {
        var throttle = connection.Services.Throttle;
        if (await throttle.IsRegistrationBlockedAsync(connection.RemoteAddress) || await connection.IsAddressThrottledAsync())
        {
            await Refuse(connection, iq, "resource-constraint", "wait", "too many registrations from this address");
            return;
        }
        await throttle.RecordRegistrationAsync(connection.RemoteAddress);
        if (policy == RegistrationPolicy.Admin && !TokenMatches(connection.Services.Options.RegistrationToken, request.Token))
        {
            connection.Services.Logger.LogWarning("Registration of {Udn} from {Address} refused: missing or wrong registration token",
                request.Username, connection.RemoteAddress);
            await Refuse(connection, iq, "not-authorized", "auth", "a valid registration token is required");
            await connection.CountAuthFailureAsync(null, "register", "not-authorized");
            return;
        }
        if (request.Username is null || request.Password is null)
        {
            await Refuse(connection, iq, "not-acceptable", "modify", "username and password are required");
            return;
        }
        if (DialNumber.Validate(request.Username) is { } invalid)
        {
            await Refuse(connection, iq, "not-acceptable", "modify", "username: " + invalid);
            return;
        }
        var result = await provisioner.CreateUserAsync(new UserRequest(request.Username, request.Password, null));
        if (result.Outcome == ProvisioningOutcome.Exists)
        {
            await Refuse(connection, iq, "conflict", "cancel", $"{request.Username} is taken");
            return;
        }
        if (result.Outcome == ProvisioningOutcome.Invalid)
        {
            await Refuse(connection, iq, "not-acceptable", "modify", result.Error);
            return;
        }
        connection.Services.Logger.LogInformation("{Udn} registered in-band from {Address} ({Policy})", request.Username, connection.RemoteAddress, policy);
        await connection.SendAsync(connection.ResultFor(iq));
    }

    private async ValueTask ChangePasswordAsync(C2sConnection connection, XmlElement iq, string udn, RegistrationRequest request)
    {
        if (request.Password is null)
        {
            await Refuse(connection, iq, "bad-request", "modify", "password is required");
            return;
        }
        if (request.Username is { } username && username != udn && !username.StartsWith(udn + "@", StringComparison.Ordinal))
        {
            await Refuse(connection, iq, "not-authorized", "modify", "a user changes only its own password");
            return;
        }
        var result = await provisioner.UpsertUserAsync(new UserRequest(udn, request.Password, null));
        if (result.Outcome == ProvisioningOutcome.Invalid)
        {
            await Refuse(connection, iq, "not-acceptable", "modify", result.Error);
            return;
        }
        connection.Services.Logger.LogInformation("{Udn} changed its password in-band from {Address}", udn, connection.RemoteAddress);
        await connection.SendAsync(connection.ResultFor(iq));
    }

    private async ValueTask CancelAsync(C2sConnection connection, XmlElement iq, string udn)
    {
        if (!await provisioner.DeleteUserAsync(udn))
        {
            await Refuse(connection, iq, "item-not-found", "cancel", null);
            return;
        }
        connection.Services.Logger.LogInformation("{Udn} cancelled its account in-band from {Address}", udn, connection.RemoteAddress);
        await connection.SendAsync(connection.ResultFor(iq));
        // XEP-0077 §3.2: the account is gone, and with it the right to this stream (as Prosody's mod_register does).
        await connection.CloseAsync(StreamErrorCondition.NotAuthorized, "the account was removed");
    }

    /// <summary>
    /// XEP-0077 §3.1 and §6: the fixed fields, and the same as a data form that also carries the token. With the policy
    /// Off, instructions only: §5's way of saying that registration happens elsewhere.
    /// </summary>
    private static XmlElement Fields(C2sConnection connection, XmlElement iq, RegistrationPolicy policy)
    {
        var result = connection.ResultFor(iq);
        var query = result.AddElement("query", Namespaces.Register);
        if (connection.Udn is { } udn)
        {
            query.AddElement("registered");
            query.AddElement("username", text: udn);
            query.AddElement("password");
            return result;
        }
        if (policy == RegistrationPolicy.Off)
        {
            query.AddElement("instructions", text: ClosedInstructions);
            return result;
        }
        var admin = policy == RegistrationPolicy.Admin;
        const string instructions = "Choose a UDN (ASCII letters, digits, '.' and '-') and a password.";
        query.AddElement("instructions", text: admin ? instructions + " The registration token goes in <key/>." : instructions);
        query.AddElement("username");
        query.AddElement("password");
        if (admin) query.AddElement("key");
        var form = query.AddElement("x", Namespaces.DataForms).SetAttribute("type", "form");
        form.AddElement("title", text: "Registration");
        form.AddElement("field").SetAttribute("type", "hidden").SetAttribute("var", "FORM_TYPE").AddElement("value", text: Namespaces.Register);
        AddField(form, "text-single", "username", "UDN");
        AddField(form, "text-private", "password", "Password");
        if (admin) AddField(form, "text-private", RegistrationRequest.TokenField, "Registration token");
        return result;
    }

    private static void AddField(XmlElement form, string type, string var, string label) =>
        form.AddElement("field").SetAttribute("type", type).SetAttribute("var", var).SetAttribute("label", label).AddElement("required");

    private bool TokenMatches(string? registrationToken, string? presented)
    {
        if (presented is null) return false;
        if (string.IsNullOrEmpty(registrationToken)) return adminToken.Matches(presented);
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(registrationToken));
    }

    private static ValueTask Refuse(C2sConnection connection, XmlElement iq, string condition, string type, string? text) =>
        connection.SendAsync(StanzaErrors.Reply(iq, condition, type, connection.Domain, text));
}
