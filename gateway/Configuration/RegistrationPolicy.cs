namespace Mmss.Gateway.Configuration;

/// <summary>Who may create an account over XMPP (XEP-0077), Mmss:C2s:Registration.</summary>
public enum RegistrationPolicy
{
    /// <summary>The feature is advertised (spec 7.1.2) but every request is answered not-allowed; users come from provisioning.</summary>
    Off,

    /// <summary>A registration must carry the registration token (the admin token unless one of its own is set).</summary>
    Admin,

    /// <summary>Anyone may register a free UDN: labs only.</summary>
    Open,
}
