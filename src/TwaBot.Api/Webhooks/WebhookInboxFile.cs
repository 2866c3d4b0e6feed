using Microsoft.Data.Sqlite;
using TwaBot.Api.Data;

namespace TwaBot.Api.Webhooks;

/// <summary>
/// The inbox's own SQLite file beside the main database (<c>twabot.db</c> → <c>twabot.webhook-inbox.db</c>):
/// deliveries wait here, durably, until the <see cref="WebhookProcessor"/> has moved them into the main
/// database, and are then forgotten. Moving is idempotent (the main database keeps each body once, by
/// its hash), so a delivery moved but not yet forgotten when the process stopped is skipped next time.
/// </summary>
public sealed class WebhookInboxFile
{
    public WebhookInboxFile(SqliteConnections mainDatabase)
    {
        ArgumentNullException.ThrowIfNull(mainDatabase);
        var builder = new SqliteConnectionStringBuilder(mainDatabase.ConnectionString);
        builder.DataSource = PathBeside(builder.DataSource);
        Connections = new SqliteConnections(builder.ToString());
    }

    public SqliteConnections Connections { get; }

    /// <summary>The inbox file for a main database file.</summary>
    public static string PathBeside(string mainDatabase)
    {
        ArgumentException.ThrowIfNullOrEmpty(mainDatabase);
        var extension = Path.GetExtension(mainDatabase);
        return mainDatabase[..^extension.Length] + ".webhook-inbox" + (extension.Length > 0 ? extension : ".db");
    }

    public async Task EnsureCreatedAsync(CancellationToken cancellationToken)
    {
        await using var connection = await Connections.OpenAsync(cancellationToken);
        await SqliteDurability.UseWalAsync(connection, cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            -- AUTOINCREMENT: ids are never reused once forgotten, so the processor's position stays valid.
            CREATE TABLE IF NOT EXISTS webhook_inbox (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                received_at TEXT NOT NULL,
                body_sha256 BLOB NOT NULL,
                body BLOB NOT NULL
            );
            """;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Stored deliveries after <paramref name="afterId"/>, oldest first: up to <paramref name="limit"/>
    /// of them, and no more than <paramref name="maxBytes"/> of bodies (but always at least one).
    /// </summary>
    public async Task<List<InboxEntry>> ReadAsync(long afterId, int limit, int maxBytes, CancellationToken cancellationToken)
    {
        await using var connection = await Connections.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, received_at, body_sha256, body FROM webhook_inbox WHERE id > $after ORDER BY id LIMIT $limit";
        command.Parameters.AddWithValue("$after", afterId);
        command.Parameters.AddWithValue("$limit", limit);
        var entries = new List<InboxEntry>();
        var bytes = 0;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (bytes < maxBytes && await reader.ReadAsync(cancellationToken))
        {
            var body = (byte[])reader.GetValue(3);
            bytes += body.Length;
            // Stored as UTC text, which SQLite reads back with no kind: said UTC here, so nothing downstream can take it for
            // the machine's local time and shift it by the zone's offset (an event's time when Meta's cannot be right).
            var receivedAt = DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc);
            entries.Add(new InboxEntry(reader.GetInt64(0), receivedAt, (byte[])reader.GetValue(2), body));
        }

        return entries;
    }
}

/// <summary>A delivery waiting in the inbox file.</summary>
public sealed record InboxEntry(long Id, DateTime ReceivedAt, byte[] BodySha256, byte[] Body);
