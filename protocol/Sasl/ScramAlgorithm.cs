namespace Mmss.Protocol.Sasl;

public enum ScramAlgorithm
{
    Sha1,
    Sha256,
}
