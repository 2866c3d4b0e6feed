using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using TwaBot.Api.Data;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Data;

/// <summary>
/// The group commit's promises to the requests sharing a batch: each learns its own outcome (a failed batch fails
/// every one of them, never leaves one waiting), a batch is cut at its size limit, and a stop ends every wait.
/// </summary>
public sealed class GroupCommitWriterTests : IAsyncLifetime
{
    private const int Overflows = -1; // a row whose write fails with an error that is not a constraint's
    private const int Held = -2; // a row whose batch waits inside its transaction until the test lets it go
    private const int Orphan = -3; // a row whose deferred foreign key fails only at the commit

    private readonly string _path = Path.Combine(Path.GetTempPath(), $"twabot-group-commit-{Guid.NewGuid():N}.db");
    private readonly SqliteWriteGate _gate = new();
    private readonly FakeLogger _logger = new();
    private RowWriter _writer = null!;

    [Fact]
    public async Task ABatchThatFailsFailsEveryRequestSharingItAndKeepsNoneOfItsRows()
    {
        // The writer is inside the held row's batch; the next ones queue meanwhile and share the following batch.
        var held = await _writer.WriteHeldAsync();
        Task[] shared = [_writer.WriteAsync(2), _writer.WriteAsync(Overflows), _writer.WriteAsync(3), _writer.WriteAsync(4)];
        _writer.Release();

        await held.WaitAsync(Poll.Limit);
        foreach (var write in shared)
        {
            var error = await Assert.ThrowsAsync<SqliteException>(() => write.WaitAsync(Poll.Limit));
            Assert.Equal(1, error.SqliteErrorCode); // SQLITE_ERROR: the batch is not split as for a constraint
        }

        Assert.Equal([Held], await StoredAsync());
        // Not a storage fault (those are logged by each request they are handed to): the writer logs it, with the error.
        Assert.Equal([("A group commit of 4 rows failed", true)],
            _logger.Collector.GetSnapshot().Where(r => r.Level == LogLevel.Error).Select(r => (r.Message, r.Exception is SqliteException)));
    }

    [Fact]
    public async Task ARowRefusedOnlyByTheCommitFailsItselfAndTheRowsSharingItsCommitAreWritten()
    {
        // A deferred constraint is checked by the COMMIT, after every row of the batch was written: the requests must
        // learn their outcome from the commit, not from their rows having been written.
        var held = await _writer.WriteHeldAsync();
        Task[] shared = [_writer.WriteAsync(2), _writer.WriteAsync(Orphan), _writer.WriteAsync(3)];
        _writer.Release();

        await Task.WhenAll(held, shared[0], shared[2]).WaitAsync(Poll.Limit);
        var error = await Assert.ThrowsAsync<SqliteException>(() => shared[1].WaitAsync(Poll.Limit));
        Assert.Equal(19, error.SqliteErrorCode); // SQLITE_CONSTRAINT
        Assert.Equal([Held, 2, 3], await StoredAsync());
    }

    [Fact]
    public async Task ABatchIsCutAtItsSizeLimitAndEveryRowIsWritten()
    {
        var held = await _writer.WriteHeldAsync();
        var queued = Enumerable.Range(1, 600).Select(_writer.WriteAsync).ToArray();
        _writer.Release();

        await Task.WhenAll([held, .. queued]).WaitAsync(Poll.Limit);

        Assert.Equal([1, 512, 88], _writer.BatchSizes);
        Assert.Equal(601, (await StoredAsync()).Count);
    }

    [Fact]
    public async Task AStopEndsTheWaitOfTheBatchBeingWrittenAndOfTheRowsQueuedBehindIt()
    {
        var taken = await _writer.WriteHeldAsync(); // the writer is inside its transaction
        var queued = _writer.WriteAsync(2);

        await _writer.StopAsync(CancellationToken.None).WaitAsync(Poll.Limit);

        // Neither was committed, so neither may look so; but neither may hang its request either.
        await Assert.ThrowsAsync<TaskCanceledException>(() => taken.WaitAsync(Poll.Limit));
        await Assert.ThrowsAsync<TaskCanceledException>(() => queued.WaitAsync(Poll.Limit));
        Assert.True(taken.IsCanceled && queued.IsCanceled); // a stop, not a failed commit (which is logged as an error)
        await Assert.ThrowsAsync<InvalidOperationException>(() => _writer.WriteAsync(3).WaitAsync(Poll.Limit)); // refused at once, not left waiting
        Assert.Empty(await StoredAsync());
    }

    [Fact]
    public async Task ABatchWaitsForItsTurnAtTheWriteGate()
    {
        // The main database's writers take turns there; one writing past a turn held elsewhere would meet that writer's
        // lock inside SQLite and sleep out its busy timeout instead of queueing.
        Task write;
        using (await _gate.EnterBackgroundAsync(CancellationToken.None))
        {
            write = _writer.WriteAsync(1);
            await Poll.UntilAsync(() => _gate.ClientWriterWaiting, "the writer waiting for its turn");
            Assert.False(write.IsCompleted);
        }

        await write.WaitAsync(Poll.Limit);
        Assert.Equal([1], await StoredAsync());
    }

    public async Task InitializeAsync()
    {
        var connections = new SqliteConnections(
            new SqliteConnectionStringBuilder { DataSource = _path, Pooling = false, ForeignKeys = true }.ToString());
        await using (var connection = await connections.OpenAsync(CancellationToken.None))
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                CREATE TABLE parents (id INTEGER PRIMARY KEY);
                CREATE TABLE rows (value INTEGER NOT NULL, parent INTEGER REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED);
                """;
            await command.ExecuteNonQueryAsync();
        }

        _writer = new RowWriter(connections, _gate, _logger);
        await _writer.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _writer.StopAsync(CancellationToken.None);
        _writer.Dispose();
        _gate.Dispose();
        foreach (var file in new[] { _path, _path + "-wal", _path + "-shm" })
        {
            File.Delete(file);
        }
    }

    private async Task<List<long>> StoredAsync()
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = _path, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM rows ORDER BY value";
        var values = new List<long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetInt64(0));
        }

        return values;
    }

    private sealed class RowWriter(SqliteConnections connections, SqliteWriteGate gate, ILogger logger)
        : GroupCommitWriter<int>(connections, gate, logger)
    {
        private readonly List<int> _batchSizes = [];
        private readonly TaskCompletionSource _inside = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<int> BatchSizes
        {
            get
            {
                lock (_batchSizes)
                {
                    return [.. _batchSizes];
                }
            }
        }

        /// <summary>Writes <see cref="Held"/> and returns once the writer is inside its batch, which waits for <see cref="Release"/> (or a stop).</summary>
        public async Task<Task> WriteHeldAsync()
        {
            var write = WriteAsync(Held);
            await _inside.Task.WaitAsync(Poll.Limit);
            return write;
        }

        public void Release() => _release.TrySetResult();

        protected override async Task WriteBatchAsync(PreparedCommands commands, IReadOnlyList<int> rows, CancellationToken cancellationToken)
        {
            lock (_batchSizes)
            {
                _batchSizes.Add(rows.Count);
            }

            foreach (var row in rows)
            {
                var sql = row switch
                {
                    Overflows => "SELECT abs(-9223372036854775808) + $value",
                    Orphan => "INSERT INTO rows (value, parent) VALUES ($value, 1)", // no parent 1: refused at the commit
                    _ => "INSERT INTO rows (value) VALUES ($value)",
                };
                await commands.Bind(sql, ("$value", row)).ExecuteNonQueryAsync(cancellationToken);
                if (row == Held)
                {
                    _inside.TrySetResult();
                    await _release.Task.WaitAsync(cancellationToken);
                }
            }
        }
    }
}
