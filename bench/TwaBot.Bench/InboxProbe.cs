using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace TwaBot.Bench;

/// <summary>
/// Counts of the server's durable webhook deliveries: those in its inbox file (acknowledged, not yet
/// moved) and those in <c>webhook_events</c> (moved, and applied unless <c>applied_at</c> is null).
/// </summary>
public sealed record InboxCounts(long Stored, long Unapplied, long WithError);

/// <summary>
/// Reads the server's webhook inbox file and <c>webhook_events</c> straight from their SQLite files,
/// read-only, to see what was stored and when the background processor has applied all of it (WAL
/// lets it read while the server writes).
/// </summary>
public sealed class InboxProbe(string databasePath)
{
    private readonly string _database = ReadOnly(databasePath);

    private readonly string _inboxFile = ReadOnly(InboxFile(databasePath));

    /// <summary>Where the server keeps acknowledged deliveries until it has moved them (its WebhookInboxFile).</summary>
    public static string InboxFile(string databasePath) =>
        Path.ChangeExtension(databasePath, null) + ".webhook-inbox" + Path.GetExtension(databasePath);

    public async Task<InboxCounts> CountAsync()
    {
        // The inbox file first: a delivery leaves it only once it is in webhook_events, so none is missed.
        var waiting = await ScalarAsync(_inboxFile, "SELECT count(*) FROM webhook_inbox");
        await using var connection = new SqliteConnection(_database);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT count(*), coalesce(sum(applied_at IS NULL), 0), coalesce(sum(last_error IS NOT NULL), 0)
            FROM webhook_events;
            """;
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return new InboxCounts(waiting + reader.GetInt64(0), waiting + reader.GetInt64(1), reader.GetInt64(2));
    }

    private static async Task<long> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static string ReadOnly(string file) => new SqliteConnectionStringBuilder
    {
        DataSource = file,
        Mode = SqliteOpenMode.ReadOnly,
        Pooling = false,
        DefaultTimeout = 30,
    }.ToString();

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
