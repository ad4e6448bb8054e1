namespace Mmss.Grains;

/// <summary>An answered MMS whose answer reached its originator, as <see cref="Mailbox"/> keeps it: where its row is, and until when.</summary>
/// <param name="RelayedHere">its answer was relayed by this activation (rather than by one before it)</param>
public readonly record struct SettledMms(ulong IdHash, long Seq, long ExpiresAtUnixMs, bool RelayedHere);
