namespace Mmss.GrainInterfaces;

/// <summary>A user (UE or DC), keyed by UDN.</summary>
public interface IUserGrain : IGrainWithStringKey
{
    /// <summary>The provisioned profile, or null when this UDN is not provisioned.</summary>
    Task<UserProfile?> GetProfileAsync();

    /// <summary>Creates or replaces the user; returns true when it did not exist before.</summary>
    Task<bool> ProvisionAsync(string name, StoredCredentials credentials);

    /// <summary>Renames the user without touching credentials; false when not provisioned.</summary>
    Task<bool> RenameAsync(string name);

    /// <summary>Deprovisions the user; false when it was not provisioned.</summary>
    Task<bool> RemoveAsync();
}
