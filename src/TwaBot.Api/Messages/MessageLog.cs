using System.Globalization;
using Microsoft.Data.Sqlite;
using TwaBot.Api.Data;

namespace TwaBot.Api.Messages;

/// <summary>
/// The send path's writes to <c>messages</c>, group-committed: a send's row (before Meta is called)
/// and its outcome (before the client gets its answer) each wait for their commit, but concurrent
/// sends share one transaction and one disk sync instead of paying one each.
/// </summary>
public sealed class MessageLog(SqliteConnections connections, ILogger<MessageLog> logger)
    : GroupCommitWriter<MessageWrite>(connections, logger)
{
    private static readonly int SentRank = DeliveryStatuses.Rank(DeliveryStatuses.Sent);

    /// <summary>Writes the new row and sets its <see cref="Message.Id"/>.</summary>
    public Task InsertAsync(Message message) => WriteAsync(new MessageWrite.Insert(message));

    protected override async Task WriteBatchAsync(
        SqliteConnection connection, SqliteTransaction transaction, IReadOnlyList<MessageWrite> rows, CancellationToken cancellationToken)
    {
        await using var statements = new Statements(connection, transaction);
        foreach (var row in rows)
        {
            var command = row switch
            {
                MessageWrite.Insert insert => statements.Insert(insert.Message),
                MessageWrite.Accepted accepted => statements.Accepted(accepted),
                MessageWrite.Failed failed => statements.Failed(failed),
                _ => throw new InvalidOperationException($"Unknown write {row.GetType().Name}."),
            };
            if (row is MessageWrite.Insert { Message: var message })
            {
                message.Id = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
            }
            else
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
        }
    }

    private static string Text(DateTime value) => value.ToString(Webhooks.WebhookInbox.SqliteDateTimeFormat, CultureInfo.InvariantCulture);

    /// <summary>The three statements, prepared once per batch and re-bound per row.</summary>
    private sealed class Statements(SqliteConnection connection, SqliteTransaction transaction) : IAsyncDisposable
    {
        private SqliteCommand? _insert;
        private SqliteCommand? _accepted;
        private SqliteCommand? _failed;

        public SqliteCommand Insert(Message m) => Bind(ref _insert, """
            INSERT INTO messages (business_id, api_key_id, wamid, "to", kind, template_name, api_status, delivery_status,
                                  status_rank, failure_code, failure_reason, quota_day, created_at, sent_at, updated_at)
            VALUES ($business_id, $api_key_id, NULL, $to, $kind, $template_name, $api_status, NULL,
                    0, NULL, NULL, $quota_day, $created_at, NULL, $updated_at)
            RETURNING id;
            """,
            ("$business_id", m.BusinessId), ("$api_key_id", m.ApiKeyId), ("$to", m.To), ("$kind", m.Kind),
            ("$template_name", m.TemplateName), ("$api_status", m.ApiStatus),
            ("$quota_day", m.QuotaDay.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)),
            ("$created_at", Text(m.CreatedAt)), ("$updated_at", Text(m.UpdatedAt)));

        // A status webhook may already have set a later status: sent never moves it back.
        public SqliteCommand Accepted(MessageWrite.Accepted a) => Bind(ref _accepted, """
            UPDATE messages SET wamid = $wamid, api_status = 'success', sent_at = $at, updated_at = $at,
                delivery_status = CASE WHEN status_rank < $sent_rank THEN 'sent' ELSE delivery_status END,
                status_rank = CASE WHEN status_rank < $sent_rank THEN $sent_rank ELSE status_rank END
            WHERE id = $id;
            """,
            ("$id", a.Id), ("$wamid", a.Wamid), ("$at", Text(a.At)), ("$sent_rank", SentRank));

        // Only a pending row: a status webhook that proved Meta accepted it wins over a lost answer.
        public SqliteCommand Failed(MessageWrite.Failed f) => Bind(ref _failed, """
            UPDATE messages SET api_status = $api_status, failure_code = $failure_code, failure_reason = $failure_reason, updated_at = $at
            WHERE id = $id AND api_status = 'pending';
            """,
            ("$id", f.Id), ("$api_status", f.ApiStatus), ("$failure_code", f.FailureCode), ("$failure_reason", f.Reason), ("$at", Text(f.At)));

        public async ValueTask DisposeAsync()
        {
            foreach (var command in new[] { _insert, _accepted, _failed })
            {
                if (command is not null)
                {
                    await command.DisposeAsync();
                }
            }
        }

        private SqliteCommand Bind(ref SqliteCommand? command, string sql, params (string Name, object? Value)[] values)
        {
            if (command is null)
            {
                command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = sql;
                foreach (var (name, _) in values)
                {
                    command.Parameters.Add(new SqliteParameter { ParameterName = name });
                }
            }

            foreach (var (name, value) in values)
            {
                command.Parameters[name].Value = value ?? DBNull.Value;
            }

            return command;
        }
    }
}

/// <summary>One write of the send path.</summary>
public abstract record MessageWrite
{
    private MessageWrite()
    {
    }

    public sealed record Insert(Message Message) : MessageWrite;

    /// <summary>Meta accepted the message and gave it this wamid.</summary>
    public sealed record Accepted(long Id, string Wamid, DateTime At) : MessageWrite;

    /// <summary>Meta refused (<see cref="ApiStatuses.Failed"/>) or did not answer (stays <see cref="ApiStatuses.Pending"/>).</summary>
    public sealed record Failed(long Id, string ApiStatus, int? FailureCode, string Reason, DateTime At) : MessageWrite;
}
