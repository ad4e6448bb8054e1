using System.Buffers.Binary;

namespace Mmss.Protocol.Sasl;

/// <summary>
/// MD5 (RFC 1321) whose chaining state after whole 64-byte blocks can be saved and resumed. CRAM-MD5 needs it:
/// HMAC-MD5's inner and outer states after the padded key are stored instead of the password (RFC 2195 §2).
/// The platform's MD5 cannot be resumed from a saved state, hence this small implementation.
/// </summary>
public static class Md5Midstate
{
    public const int BlockSize = 64;
    public const int StateSize = 16;

    private static readonly int[] Shifts =
    [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
        5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
        4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
        6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];

    private static readonly uint[] Constants = Enumerable.Range(0, 64)
        .Select(i => (uint)(long)Math.Floor(Math.Abs(Math.Sin(i + 1)) * 4294967296.0)).ToArray();

    private static ReadOnlySpan<byte> InitialState =>
        [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10];

    /// <summary>The state after hashing exactly one 64-byte block from the initial state.</summary>
    public static byte[] AfterOneBlock(ReadOnlySpan<byte> block)
    {
        if (block.Length != BlockSize) throw new ArgumentException("one block is 64 bytes", nameof(block));
        Span<uint> state = stackalloc uint[4];
        Load(InitialState, state);
        Transform(state, block);
        var result = new byte[StateSize];
        Store(state, result);
        return result;
    }

    /// <summary>Finishes a hash whose first 64 bytes are summarised by <paramref name="midstate"/>.</summary>
    public static byte[] HashFrom(ReadOnlySpan<byte> midstate, ReadOnlySpan<byte> rest)
    {
        Span<uint> state = stackalloc uint[4];
        Load(midstate, state);
        var totalBits = (ulong)(BlockSize + rest.Length) * 8;
        while (rest.Length >= BlockSize)
        {
            Transform(state, rest[..BlockSize]);
            rest = rest[BlockSize..];
        }
        Span<byte> tail = stackalloc byte[BlockSize * 2];
        tail.Clear();
        rest.CopyTo(tail);
        tail[rest.Length] = 0x80;
        var tailLength = rest.Length + 9 <= BlockSize ? BlockSize : BlockSize * 2;
        BinaryPrimitives.WriteUInt64LittleEndian(tail[(tailLength - 8)..], totalBits);
        for (var offset = 0; offset < tailLength; offset += BlockSize) Transform(state, tail.Slice(offset, BlockSize));
        var digest = new byte[StateSize];
        Store(state, digest);
        return digest;
    }

    private static void Load(ReadOnlySpan<byte> bytes, Span<uint> state)
    {
        for (var i = 0; i < 4; i++) state[i] = BinaryPrimitives.ReadUInt32LittleEndian(bytes[(i * 4)..]);
    }

    private static void Store(ReadOnlySpan<uint> state, Span<byte> bytes)
    {
        for (var i = 0; i < 4; i++) BinaryPrimitives.WriteUInt32LittleEndian(bytes[(i * 4)..], state[i]);
    }

    private static void Transform(Span<uint> state, ReadOnlySpan<byte> block)
    {
        Span<uint> m = stackalloc uint[16];
        for (var i = 0; i < 16; i++) m[i] = BinaryPrimitives.ReadUInt32LittleEndian(block[(i * 4)..]);
        uint a = state[0], b = state[1], c = state[2], d = state[3];
        for (var i = 0; i < 64; i++)
        {
            uint f;
            int g;
            switch (i >> 4)
            {
                case 0: f = (b & c) | (~b & d); g = i; break;
                case 1: f = (d & b) | (~d & c); g = (5 * i + 1) & 15; break;
                case 2: f = b ^ c ^ d; g = (3 * i + 5) & 15; break;
                default: f = c ^ (b | ~d); g = (7 * i) & 15; break;
            }
            var rotated = uint.RotateLeft(a + f + Constants[i] + m[g], Shifts[i]);
            a = d;
            d = c;
            c = b;
            b += rotated;
        }
        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
    }
}
