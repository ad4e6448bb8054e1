using Mmss.GrainInterfaces;

namespace Mmss.Grains.Tests;

/// <summary>Credentials for grain tests, where nobody logs in: provisioned, but no password derives them.</summary>
public static class TestCredentials
{
    public static readonly StoredCredentials Unusable = new(
        new StoredScramSecret([1], 1, [1], [1]), new StoredScramSecret([1], 1, [1], [1]), new Dictionary<string, byte[]>(), new byte[32]);
}
