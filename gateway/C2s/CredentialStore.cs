using Mmss.Gateway.Provisioning;
using Mmss.GrainInterfaces;
using Mmss.Protocol.Sasl;

namespace Mmss.Gateway.C2s;

/// <summary>Looks up a user's SASL secrets in its grain by the name the terminal authenticates with.</summary>
public sealed class CredentialStore(IGrainFactory grains)
{
    public async ValueTask<SaslCredentials?> LookupAsync(string username)
    {
        var udn = username;
        var at = udn.IndexOf('@');
        if (at > 0) udn = udn[..at];
        if (DialNumber.Validate(udn) is null && await grains.User(udn).GetProfileAsync() is { } profile)
        {
            return profile.Credentials.ToSasl(profile.Udn);
        }
        // Spec 7.1.1: terminals may identify as "UDN_UserName"; the UDN is what is provisioned.
        var underscore = udn.IndexOf('_');
        if (underscore > 0 && DialNumber.Validate(udn[..underscore]) is null &&
            await grains.User(udn[..underscore]).GetProfileAsync() is { } named)
        {
            return named.Credentials.ToSasl(named.Udn);
        }
        return null;
    }
}
