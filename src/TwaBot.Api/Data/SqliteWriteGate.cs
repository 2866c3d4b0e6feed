namespace TwaBot.Api.Data;

/// <summary>
/// SQLite has one writer at a time, and a writer that finds the database locked sleeps and retries
/// (the busy timeout), so a writer that commits back to back can starve the others for seconds. The
/// hot writers (the group-commit writers and the webhook processor) queue here instead and take
/// turns in the order they arrived, each holding the gate only for its transaction.
/// </summary>
public sealed class SqliteWriteGate : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task<Turn> EnterAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        return new Turn(_gate);
    }

    public void Dispose() => _gate.Dispose();

    /// <summary>The gate, held until disposed.</summary>
    public readonly struct Turn(SemaphoreSlim gate) : IDisposable
    {
        public void Dispose() => gate.Release();
    }
}
