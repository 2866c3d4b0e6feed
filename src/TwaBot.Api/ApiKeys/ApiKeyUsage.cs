using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Data;

namespace TwaBot.Api.ApiKeys;

/// <summary>
/// Keeps <c>api_keys.last_used_at</c> current to the minute. SQLite has one writer, so a request is
/// not a write: each key's timestamp is written at most once per <see cref="Resolution"/>.
/// <para>
/// No caller waits on this write: while the database cannot be written (another process holds its lock, the disk is
/// full) a key's first request of the minute waits at most <see cref="MaxWait"/> for it and then goes on without it, so
/// reads (health, templates, message-status) keep answering, as docs/operations.md promises.
/// </para>
/// </summary>
public sealed partial class ApiKeyUsage(IServiceScopeFactory scopes, SqliteWriteGate gate, TimeProvider time, ILogger<ApiKeyUsage> logger)
{
    public static readonly TimeSpan Resolution = TimeSpan.FromMinutes(1);

    /// <summary>For the write gate and for another process's lock together; SQLite's busy wait counts in whole seconds.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<long, DateTimeOffset> _lastWritten = new();

    /// <summary>
    /// Takes no request token: the key's minute counts as written once this starts, so a write cancelled with its caller
    /// (a client timing out while the gate is busy) left last_used_at unwritten for that minute's later requests too.
    /// <see cref="MaxWait"/> bounds it instead.
    /// </summary>
    public async ValueTask RecordAsync(long keyId)
    {
        var now = time.GetUtcNow();
        // A clock stepped back (now before the last write) writes at once: waiting a minute from a time the clock
        // has left behind would leave last_used_at as it was for as long as the step.
        if (_lastWritten.TryGetValue(keyId, out var last) && now >= last && now - last < Resolution)
        {
            return;
        }

        // Two racing requests may both write once; that is harmless and rarer than a lock is costly.
        _lastWritten[keyId] = now;
        using var bounded = new CancellationTokenSource(MaxWait);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
            db.Database.SetCommandTimeout(MaxWait);
            // Queued with the other writers, not in SQLite's busy loop behind a webhook backlog being applied.
            using var turn = await gate.EnterAsync(bounded.Token);
            await db.ApiKeys.Where(k => k.Id == keyId)
                .ExecuteUpdateAsync(set => set.SetProperty(k => k.LastUsedAt, now.UtcDateTime), bounded.Token);
        }
        catch (Exception error) when (error is OperationCanceledException || SqliteFaults.IsStorageFault(error))
        {
            // Not written; the key's first request a minute on tries again. Trying on every request instead would make
            // each of them wait here while the database stays unwritable.
            NotRecorded(logger, keyId, error.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The last use of API key {ApiKeyId} was not recorded ({Reason}); the request goes on")]
    private static partial void NotRecorded(ILogger logger, long apiKeyId, string reason);
}
