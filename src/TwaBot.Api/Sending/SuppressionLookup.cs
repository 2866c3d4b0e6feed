using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using TwaBot.Api.Data;

namespace TwaBot.Api.Sending;

/// <summary>
/// A recipient's suppression, read on every send by the unique (business, phone) index. A business's
/// list can hold hundreds of thousands of numbers, so it is not kept in memory (a copy would have to
/// be reloaded whole after each customer's STOP); reading the one row also makes every change count
/// from the very next send, however it was written.
/// <para>
/// Each read takes an idle connection with the statement already prepared, or opens one: an EF query
/// per send cost about a tenth of the send path's throughput, and one shared connection behind a lock
/// let a reader the scheduler paused hold up every other send for milliseconds. There are never more
/// connections than reads at once, which the few threads running sends bound.
/// </para>
/// </summary>
public sealed class SuppressionLookup(SqliteConnections connections) : IDisposable
{
    private readonly ConcurrentStack<Reader> _idle = new();
    private volatile bool _disposed;

    /// <summary>The number's suppression state, or null when the business may message it.</summary>
    public string? StateOf(long businessId, string phone)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_idle.TryPop(out var reader))
        {
            reader = new Reader(connections.OpenAsync(CancellationToken.None).GetAwaiter().GetResult());
        }

        try
        {
            // Microsoft.Data.Sqlite runs the query synchronously either way: an indexed read of a few pages.
            return reader.Commands.Bind("SELECT state FROM suppressions WHERE business_id = $business_id AND phone = $phone",
                ("$business_id", businessId), ("$phone", phone)).ExecuteScalar() as string;
        }
        finally
        {
            _idle.Push(reader);
            if (_disposed)
            {
                DisposeIdle(); // a read that was under way when the lookup was disposed
            }
        }
    }

    public void Dispose()
    {
        _disposed = true;
        DisposeIdle();
    }

    private void DisposeIdle()
    {
        while (_idle.TryPop(out var reader))
        {
            reader.Dispose();
        }
    }

    private sealed class Reader(SqliteConnection connection) : IDisposable
    {
        public PreparedCommands Commands { get; } = new(connection);

        public void Dispose()
        {
            Commands.Dispose();
            connection.Dispose();
        }
    }
}
