namespace Mmss.Gateway.Attachments;

/// <summary>The attachment store failed even after retries (or its circuit is open): the client gets 503.</summary>
public sealed class AttachmentStoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
