namespace Mmss.Protocol.Sasl;

/// <summary>What a SCRAM server keeps instead of the password (RFC 5802 §3): salt, iteration count, StoredKey, ServerKey.</summary>
public sealed record ScramSecret(byte[] Salt, int Iterations, byte[] StoredKey, byte[] ServerKey);
