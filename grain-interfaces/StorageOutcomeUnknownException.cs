namespace Mmss.GrainInterfaces;

/// <summary>
/// A write reached the database but its outcome never came back (the connection was lost while the transaction
/// committed, and the database stayed away too long to ask it): what was written may be stored. Unlike a refused
/// write, it does not mean "nothing stored", so no one may answer FAIL 9 on it alone: callers keep trying (submissions
/// are idempotent) until the database can say, or treat what was written as possibly delivered.
/// </summary>
[GenerateSerializer]
public sealed class StorageOutcomeUnknownException : Exception
{
    public StorageOutcomeUnknownException(string message, Exception? inner = null) : base(message, inner)
    {
    }
}
