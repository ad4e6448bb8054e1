namespace Mmss.GrainInterfaces;

/// <summary>What a user grain did with an MMS copy handed to it.</summary>
public enum MmsAcceptance
{
    /// <summary>No such user.</summary>
    Unknown,
    /// <summary>Stored and pushed to at least one live session.</summary>
    Online,
    /// <summary>Stored for a user with no live session: it waits for the next login.</summary>
    StoredOffline,
}
