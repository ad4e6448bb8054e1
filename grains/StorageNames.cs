namespace Mmss.Grains;

public static class StorageNames
{
    /// <summary>The grain storage provider every MMSS grain uses: SQLite when embedded, PostgreSQL in a cluster.</summary>
    public const string Default = "mmss";
}
