using System.ComponentModel.DataAnnotations;

namespace Mmss.Silo.Storage;

public sealed class SqliteGrainStorageOptions
{
    /// <summary>The database file; created with its directory when missing.</summary>
    [Required]
    public string DatabasePath { get; set; } = "data/mmss.db";

    /// <summary>
    /// SQLite's synchronous pragma. FULL (default) fsyncs every commit, so even a power cut loses nothing acknowledged;
    /// NORMAL survives a killed process but not a power cut.
    /// </summary>
    [RegularExpression("^(?i)(FULL|NORMAL)$", ErrorMessage = "Synchronous must be FULL or NORMAL.")]
    public string Synchronous { get; set; } = "FULL";
}
