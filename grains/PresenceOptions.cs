using System.ComponentModel.DataAnnotations;

namespace Mmss.Grains;

/// <summary>Section "Mmss:Presence": how far presence of roster contacts (the members of one's talk groups) reaches.</summary>
public sealed class PresenceOptions
{
    public const string Section = "Mmss:Presence";

    /// <summary>
    /// Talk groups with more members than this carry no presence: their members are listed in rosters but are not
    /// presence contacts through that group, so that a login costs at most this many presence calls per group. Default 500.
    /// </summary>
    [Range(0, 100_000)]
    public int MaxGroupMembers { get; set; } = 500;

    /// <summary>Contacts' user grains called at once by one broadcast. Default 32.</summary>
    [Range(1, 1024)]
    public int FanOutConcurrency { get; set; } = 32;
}
