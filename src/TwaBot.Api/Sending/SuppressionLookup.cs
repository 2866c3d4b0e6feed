using Microsoft.Data.Sqlite;
using Microsoft.Extensions.ObjectPool;
using TwaBot.Api.Data;

namespace TwaBot.Api.Sending;

/// <summary>
/// A recipient's suppression, read on every send by the unique (business, phone) index. A business's
/// list can hold hundreds of thousands of numbers, so it is not kept in memory (a copy would have to
/// be reloaded whole after each customer's STOP); reading the one row also makes every change count
/// from the very next send, however it was written.
/// <para>
/// Each read takes a pooled connection with the statement already prepared: an EF query per send cost
/// about a tenth of the send path's throughput, and one shared connection behind a lock let a reader
/// the scheduler paused hold up every other send for milliseconds.
/// </para>
/// </summary>
public sealed class SuppressionLookup(SqliteConnections connections) : IDisposable
{
    // More than the threads that run sends at once; a reader beyond it is closed when returned.
    private const int ReadersKept = 32;

    private readonly ObjectPool<Reader> _readers =
        new DefaultObjectPoolProvider { MaximumRetained = ReadersKept }.Create(new ReaderPolicy(connections));

    /// <summary>The number's suppression state, or null when the business may message it.</summary>
    public string? StateOf(long businessId, string phone) =>
        // The number's own row first, else the row of the wa_id Meta gave it (its customer's STOP comes from there), or, for
        // a number sent to as a Brazilian, Mexican or Argentine mobile's wa_id, the row of the number as written (an
        // operator's entry: the same phone, WaIdForms).
        Read("""
            SELECT state FROM suppressions
            WHERE business_id = $business_id
              AND phone IN ($phone, (SELECT wa_id FROM recipient_wa_ids WHERE business_id = $business_id AND phone = $phone), $written)
            ORDER BY phone = $phone DESC LIMIT 1
            """, businessId, phone) as string;

    /// <summary>
    /// Whether the customer stopped marketing messages (their contact row, kept under the wa_id Meta gives the
    /// number, records Meta's stop until a resume). Read for MARKETING templates only.
    /// </summary>
    public bool StoppedMarketing(long businessId, string phone) =>
        Read("""
            SELECT 1 FROM contacts
            WHERE business_id = $business_id AND marketing_opt_out_at IS NOT NULL
              AND phone IN ($phone, (SELECT wa_id FROM recipient_wa_ids WHERE business_id = $business_id AND phone = $phone), $written)
            LIMIT 1
            """, businessId, phone) is not null;

    /// <summary>One value read on a pooled connection; Microsoft.Data.Sqlite runs it synchronously either way (a few indexed pages).</summary>
    private object? Read(string sql, long businessId, string phone)
    {
        var reader = _readers.Get();
        try
        {
            return reader.Commands.Bind(sql, ("$business_id", businessId), ("$phone", phone), ("$written", Phones.WaIdForms.WrittenNumberOf(phone)))
                .ExecuteScalar();
        }
        finally
        {
            _readers.Return(reader);
        }
    }

    /// <summary>Closes the pooled connections; one returned later (a read under way) is closed on its return.</summary>
    public void Dispose() => (_readers as IDisposable)?.Dispose();

    private sealed class Reader(SqliteConnection connection) : IDisposable
    {
        public PreparedCommands Commands { get; } = new(connection);

        public void Dispose()
        {
            Commands.Dispose();
            connection.Dispose();
        }
    }

    private sealed class ReaderPolicy(SqliteConnections connections) : PooledObjectPolicy<Reader>
    {
        // Microsoft.Data.Sqlite opens synchronously even through OpenAsync, so waiting here blocks nothing more.
        public override Reader Create() => new(connections.OpenAsync(CancellationToken.None).GetAwaiter().GetResult());

        // A read that threw leaves its statement reset and its connection open: still fit for the next one.
        public override bool Return(Reader obj) => true;
    }
}
