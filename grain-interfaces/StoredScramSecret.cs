namespace Mmss.GrainInterfaces;

/// <summary>SCRAM salt, iteration count, StoredKey and ServerKey (RFC 5802 §3).</summary>
[GenerateSerializer, Immutable]
public sealed record StoredScramSecret(
    [property: Id(0)] byte[] Salt,
    [property: Id(1)] int Iterations,
    [property: Id(2)] byte[] StoredKey,
    [property: Id(3)] byte[] ServerKey);
