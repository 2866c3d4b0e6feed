using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace TwaBot.Api.Data;

/// <summary>
/// Group commit: many requests' rows go to disk in one SQLite transaction, and each request learns
/// that its own row is committed before it answers. With <c>synchronous=FULL</c> a commit costs a
/// disk sync, so one commit per request caps a 2-core machine at a few thousand writes per second;
/// batching pays that sync once for everything that arrived meanwhile. A lone request is written at
/// once (no waiting to fill a batch), so latency stays that of a single commit.
/// </summary>
public abstract partial class GroupCommitWriter<T> : BackgroundService
{
    private const int MaxBatch = 512;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SqliteConnections _connections;
    private readonly SqliteWriteGate? _gate;
    private readonly ILogger _logger;

    /// <summary>Takes <paramref name="gate"/> for each batch; null when this writer is its file's only one.</summary>
    protected GroupCommitWriter(SqliteConnections connections, SqliteWriteGate? gate, ILogger logger)
    {
        _connections = connections;
        _gate = gate;
        _logger = logger;
    }

    /// <summary>Completes when the row is committed; throws when its batch could not be written.</summary>
    public Task WriteAsync(T row) => Enqueue(new Pending(row, HasRow: true, NewDone()));

    /// <summary>
    /// Asks for a commit without a row of its own, for work <see cref="WriteBatchAsync"/> does besides
    /// the rows; shares the next batch when rows are waiting. Completes when that batch is committed.
    /// </summary>
    protected Task CommitAsync() => Enqueue(new Pending(default!, HasRow: false, NewDone()));

    private static TaskCompletionSource NewDone() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private Task Enqueue(Pending pending)
    {
        if (!_queue.Writer.TryWrite(pending))
        {
            pending.Done.SetException(new InvalidOperationException("The writer has stopped."));
        }

        return pending.Done.Task;
    }

    /// <summary>
    /// Writes the batch's rows (none when only <see cref="CommitAsync"/> asked for it) with
    /// <paramref name="commands"/>, which run in the batch's transaction; the base class commits. The
    /// statements stay prepared for the writer's lifetime.
    /// </summary>
    protected abstract Task WriteBatchAsync(PreparedCommands commands, IReadOnlyList<T> rows, CancellationToken cancellationToken);

    /// <summary>Called after a batch is committed (e.g. to wake whoever processes the rows).</summary>
    protected virtual void OnCommitted(IReadOnlyList<T> rows)
    {
    }

    /// <summary>
    /// SQLite's calls block (a commit waits for the disk), so the writer owns a thread instead of
    /// holding one of the thread pool's few workers, which on a 2-core machine would starve the
    /// requests it is committing for.
    /// </summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Run(stoppingToken);
                stopped.TrySetResult();
            }
            catch (Exception error)
            {
                stopped.TrySetException(error);
            }
        })
        {
            IsBackground = true,
            Name = GetType().Name,
        };
        thread.Start();
        return stopped.Task;
    }

    private void Run(CancellationToken stoppingToken)
    {
        var batch = new List<Pending>(MaxBatch);
        try
        {
            using var connection = _connections.OpenAsync(stoppingToken).GetAwaiter().GetResult();
            using var commands = new PreparedCommands(connection);
            while (_queue.Reader.WaitToReadAsync(stoppingToken).AsTask().GetAwaiter().GetResult())
            {
                batch.Clear();
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var next))
                {
                    batch.Add(next);
                }

                Commit(connection, commands, batch, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: whatever is still queued was never acknowledged, so the sender retries it.
        }
        finally
        {
            // A stop that came while a batch waited for the gate or was written ends its requests' waits too: it was not committed.
            foreach (var taken in batch)
            {
                taken.Done.TrySetCanceled(CancellationToken.None);
            }

            _queue.Writer.TryComplete();
            while (_queue.Reader.TryRead(out var left))
            {
                left.Done.TrySetCanceled(CancellationToken.None);
            }
        }
    }

    // Microsoft.Data.Sqlite's async methods complete synchronously, so WriteBatchAsync runs on this thread.
    private void Commit(SqliteConnection connection, PreparedCommands commands, List<Pending> batch, CancellationToken cancellationToken)
    {
        var rows = new List<T>(batch.Count);
        foreach (var pending in batch)
        {
            if (pending.HasRow)
            {
                rows.Add(pending.Row);
            }
        }

        try
        {
            using (_gate?.EnterAsync(cancellationToken).GetAwaiter().GetResult())
            using (var transaction = connection.BeginTransaction())
            {
                commands.Transaction = transaction;
                WriteBatchAsync(commands, rows, cancellationToken).GetAwaiter().GetResult();
                transaction.Commit();
            }

            batch.ForEach(p => p.Done.TrySetResult());
            OnCommitted(rows);
        }
        catch (SqliteException error) when (error.SqliteErrorCode == ConstraintViolation && batch.Count > 1)
        {
            // One row breaking a constraint fails only itself, not the requests whose rows shared its transaction.
            LogBatchSplit(_logger, error, batch.Count);
            foreach (var pending in batch)
            {
                Commit(connection, commands, [pending], cancellationToken);
            }
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // A storage fault (full disk, lock, read-only file) is logged by each request or pass it is handed to.
            if (!SqliteFaults.IsStorageFault(error))
            {
                LogBatchFailed(_logger, error, batch.Count);
            }

            batch.ForEach(p => p.Done.TrySetException(error));
        }
    }

    private const int ConstraintViolation = 19; // SQLITE_CONSTRAINT

    [LoggerMessage(Level = LogLevel.Warning, Message = "A group commit of {Count} rows broke a constraint; each is written alone")]
    private static partial void LogBatchSplit(ILogger logger, Exception error, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "A group commit of {Count} rows failed")]
    private static partial void LogBatchFailed(ILogger logger, Exception error, int count);

    private readonly record struct Pending(T Row, bool HasRow, TaskCompletionSource Done);
}
