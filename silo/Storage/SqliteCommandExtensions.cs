using Microsoft.Data.Sqlite;

namespace Mmss.Silo.Storage;

public static class SqliteCommandExtensions
{
    /// <summary>
    /// Sets a parameter of a kept, prepared command, adding it at the command's first use: a new SqliteParameter per
    /// parameter per operation was a share of every round trip's allocations. <see cref="SqliteDatabase"/> unsets the
    /// values before each use, so a parameter an operation forgets fails it ("must be set") rather than reuse the last value.
    /// </summary>
    public static void Set(this SqliteCommand command, string name, object value)
    {
        var parameters = command.Parameters;
        for (var i = 0; i < parameters.Count; i++)
        {
            if (parameters[i].ParameterName == name)
            {
                parameters[i].Value = value;
                return;
            }
        }
        parameters.AddWithValue(name, value);
    }
}
