using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace TwaBot.Bench;

/// <summary>Counts of the server's durable webhook inbox (<c>webhook_events</c>).</summary>
public sealed record InboxCounts(long Stored, long Unapplied, long WithError);

/// <summary>
/// Reads the server's webhook inbox straight from its SQLite file, read-only, to see what was stored
/// and when the background processor has applied all of it (WAL lets it read while the server writes).
/// </summary>
public sealed class InboxProbe(string databasePath)
{
    private readonly string _connectionString = new SqliteConnectionStringBuilder
    {
        DataSource = databasePath,
        Mode = SqliteOpenMode.ReadOnly,
        Pooling = false,
        DefaultTimeout = 30,
    }.ToString();

    public async Task<InboxCounts> CountAsync()
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT count(*), coalesce(sum(applied_at IS NULL), 0), coalesce(sum(last_error IS NOT NULL), 0)
            FROM webhook_events;
            """;
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new InboxCounts(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
    }

    /// <summary>
    /// Lets the server finish what the last run left: status reports still on their way (the emulator
    /// sends sent, delivered, read 0.5 s apart) and events not yet applied, which would load the next run.
    /// </summary>
    public async Task SettleAsync(TextWriter progress)
    {
        ArgumentNullException.ThrowIfNull(progress);
        await Task.Delay(TimeSpan.FromSeconds(2));
        if (await WaitUntilAppliedAsync(TimeSpan.FromSeconds(120)) is null)
        {
            progress.WriteLine("  warning: the webhook inbox did not drain within 120 s after this run");
        }
    }

    /// <summary>How long until no stored event is left unapplied, or null if that did not happen within <paramref name="timeout"/>.</summary>
    public async Task<TimeSpan?> WaitUntilAppliedAsync(TimeSpan timeout)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < timeout)
        {
            if ((await CountAsync()).Unapplied == 0)
            {
                return waited.Elapsed;
            }

            await Task.Delay(50);
        }

        return null;
    }
}
