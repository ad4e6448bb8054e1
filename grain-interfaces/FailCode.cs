namespace Mmss.GrainInterfaces;

/// <summary>FAIL ReturnCodes: the project's table (spec "Project decisions"), the seed's being lost.</summary>
public static class FailCode
{
    public const int RecipientUnknown = 1;
    public const int NotAllowed = 2;
    public const int AttachmentMissing = 3;
    public const int TooLarge = 4;
    public const int Expired = 5;
    public const int PeerUnreachable = 6;
    public const int Malformed = 7;
    public const int DuplicateIdDifferentContent = 8;
    public const int StorageUnavailable = 9;
    public const int RecipientRejected = 10;
    public const int Unspecified = 255;
}
