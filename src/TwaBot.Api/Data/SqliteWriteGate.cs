namespace TwaBot.Api.Data;

/// <summary>
/// SQLite has one writer at a time, and a writer that finds the database locked sleeps and retries
/// (the busy timeout), so a writer that commits back to back can starve the others for seconds. The
/// main database's writers (the send path's <c>MessageLog</c>, admin writes, the webhook processor and the
/// sweeps) queue here instead, each holding the gate only for its transaction. The webhook inbox has a
/// file of its own and takes no turn here.
/// <para>
/// Writers a client is waiting on (a send's row, an admin write) go first. Background work (applying
/// stored webhooks, the sweeps) takes the gate when none of them is waiting, or once it has been held back for
/// <see cref="BackgroundMaxWait"/>, so it keeps a share under sustained load and is never shut out.
/// </para>
/// </summary>
public sealed class SqliteWriteGate : IDisposable
{
    public static readonly TimeSpan BackgroundMaxWait = TimeSpan.FromMilliseconds(20);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private int _foregroundActive; // waiting for or holding the gate
    private long _foregroundLastActive;

    /// <summary>
    /// Whether a client-facing writer is waiting for the gate, as seen by background work holding it: a long batch ends its
    /// turn early instead of keeping a send's commit waiting for the whole batch.
    /// </summary>
    public bool ClientWriterWaiting => Volatile.Read(ref _foregroundActive) > 0;

    /// <summary>Waits for the gate on behalf of a client's request.</summary>
    public async Task<Turn> EnterAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _foregroundActive);
        try
        {
            await _gate.WaitAsync(cancellationToken);
        }
        catch
        {
            Leave();
            throw;
        }

        return new Turn(this, foreground: true);
    }

    /// <summary>
    /// Waits for the gate for background work: until no client-facing writer has been waiting or
    /// writing for a moment (they commit back to back under load), or it has been held back long enough.
    /// </summary>
    public async Task<Turn> EnterBackgroundAsync(CancellationToken cancellationToken)
    {
        var heldBackSince = Environment.TickCount64;
        while (Environment.TickCount64 - heldBackSince < BackgroundMaxWait.TotalMilliseconds
            && (Volatile.Read(ref _foregroundActive) > 0 || Environment.TickCount64 - Volatile.Read(ref _foregroundLastActive) < 2))
        {
            await Task.Delay(1, cancellationToken);
        }

        await _gate.WaitAsync(cancellationToken);
        return new Turn(this, foreground: false);
    }

    public void Dispose() => _gate.Dispose();

    private void Leave()
    {
        Volatile.Write(ref _foregroundLastActive, Environment.TickCount64);
        Interlocked.Decrement(ref _foregroundActive);
    }

    /// <summary>The gate, held until disposed.</summary>
    public readonly struct Turn(SqliteWriteGate owner, bool foreground) : IDisposable
    {
        public void Dispose()
        {
            owner._gate.Release();
            if (foreground)
            {
                owner.Leave();
            }
        }
    }
}
