using System.Security.Cryptography;

namespace Mmss.Protocol.Sasl;

/// <summary>HMAC-MD5 (RFC 2104) split so that the key-dependent part can be stored instead of the password (RFC 2195 §2).</summary>
public static class CramMd5Math
{
    /// <summary>The inner and outer MD5 midstates after (key XOR ipad) and (key XOR opad): 32 bytes.</summary>
    public static byte[] Midstates(ReadOnlySpan<byte> key)
    {
        Span<byte> padded = stackalloc byte[Md5Midstate.BlockSize];
        padded.Clear();
        if (key.Length > Md5Midstate.BlockSize) MD5.HashData(key, padded);
        else key.CopyTo(padded);
        Span<byte> inner = stackalloc byte[Md5Midstate.BlockSize];
        Span<byte> outer = stackalloc byte[Md5Midstate.BlockSize];
        for (var i = 0; i < Md5Midstate.BlockSize; i++)
        {
            inner[i] = (byte)(padded[i] ^ 0x36);
            outer[i] = (byte)(padded[i] ^ 0x5c);
        }
        var result = new byte[Md5Midstate.StateSize * 2];
        Md5Midstate.AfterOneBlock(inner).CopyTo(result, 0);
        Md5Midstate.AfterOneBlock(outer).CopyTo(result, Md5Midstate.StateSize);
        return result;
    }

    public static byte[] Hmac(ReadOnlySpan<byte> midstates, ReadOnlySpan<byte> message)
    {
        var innerDigest = Md5Midstate.HashFrom(midstates[..Md5Midstate.StateSize], message);
        return Md5Midstate.HashFrom(midstates[Md5Midstate.StateSize..], innerDigest);
    }
}
