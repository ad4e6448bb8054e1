using System.Text;
using Orleans.Storage;

namespace Mmss.Silo.Cluster;

/// <summary>
/// How Orleans' ADO.NET grain storage addresses one grain's state in OrleansStorage: the grain key split into two
/// 64-bit halves and a string, the state name, and two 32-bit hashes of them. <see cref="PostgresGrainStorage"/> writes
/// rows the provider then reads (and the other way round), so every field must come out exactly as the provider makes
/// it: a guid key as its two halves plus the key extension, an integer key as N1 plus the extension, any other key as
/// the string alone; each hash over those bytes in reverse order (the provider reverses them on little-endian
/// machines), with the hasher the provider is configured with.
/// </summary>
public readonly record struct AdoNetGrainStateKey(int GrainIdHash, int GrainTypeHash, long N0, long N1, string GrainType, string? Extension)
{
    public static AdoNetGrainStateKey Of(string stateName, GrainId grainId, IHasher hasher)
    {
        // Generic state names are rewritten by the provider (their assembly versions dropped); MMSS state names are plain.
        if (stateName.Contains('`', StringComparison.Ordinal))
            throw new ArgumentException($"state name '{stateName}' is generic; the ADO.NET provider would rewrite it", nameof(stateName));

        long n0 = 0, n1 = 0;
        string? extension;
        byte[] bytes;
        if (grainId.TryGetGuidKey(out var guid, out var guidExtension))
        {
            extension = guidExtension;
            bytes = WithExtension(guid.ToByteArray(), extension);
            n0 = BitConverter.ToInt64(bytes, 0);
            n1 = BitConverter.ToInt64(bytes, 8);
        }
        else if (grainId.TryGetIntegerKey(out var integer, out var integerExtension))
        {
            extension = integerExtension;
            n1 = integer;
            bytes = WithExtension(BitConverter.GetBytes(integer), extension);
        }
        else
        {
            extension = grainId.Key.ToString();
            bytes = Encoding.UTF8.GetBytes(extension);
        }
        if (BitConverter.IsLittleEndian) Array.Reverse(bytes);
        return new AdoNetGrainStateKey(hasher.Hash(bytes), hasher.Hash(Encoding.UTF8.GetBytes(stateName)), n0, n1, stateName, extension);
    }

    private static byte[] WithExtension(byte[] key, string? extension) =>
        extension is null ? key : [.. key, .. Encoding.UTF8.GetBytes(extension)];
}
