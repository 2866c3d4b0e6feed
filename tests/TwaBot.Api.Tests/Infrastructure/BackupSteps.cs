using Microsoft.Data.Sqlite;

namespace TwaBot.Api.Tests.Infrastructure;

/// <summary>docs/operations.md's backup steps, as tests take them: the sqlite3 command and the key ring's tar.</summary>
public static class BackupSteps
{
    /// <summary>The doc's command, <c>sqlite3 FILE "VACUUM INTO '…'"</c>, through Microsoft.Data.Sqlite.</summary>
    public static async Task VacuumIntoAsync(string database, string copy)
    {
        await using var connection = new SqliteConnection($"Data Source={database};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"VACUUM INTO '{copy}'";
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The doc's tar of the key ring folder: its files, copied.</summary>
    public static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }
}
