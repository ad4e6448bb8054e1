namespace Mmss.Protocol.Sasl;

/// <summary>Finds the stored secrets of a user by the name the client authenticates with; null when unknown.</summary>
public delegate ValueTask<SaslCredentials?> CredentialLookup(string username);
