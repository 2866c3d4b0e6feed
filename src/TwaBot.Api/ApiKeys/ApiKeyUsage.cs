using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Data;

namespace TwaBot.Api.ApiKeys;

/// <summary>
/// Keeps <c>api_keys.last_used_at</c> current to the minute. SQLite has one writer, so a request is
/// not a write: each key's timestamp is written at most once per <see cref="Resolution"/>.
/// </summary>
public sealed class ApiKeyUsage(IServiceScopeFactory scopes, SqliteWriteGate gate, TimeProvider time)
{
    public static readonly TimeSpan Resolution = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<long, DateTimeOffset> _lastWritten = new();

    public async ValueTask RecordAsync(long keyId, CancellationToken cancellationToken)
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
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
        // Queued with the other writers, not in SQLite's busy loop behind a webhook backlog being applied.
        using var turn = await gate.EnterAsync(cancellationToken);
        await db.ApiKeys.Where(k => k.Id == keyId)
            .ExecuteUpdateAsync(set => set.SetProperty(k => k.LastUsedAt, now.UtcDateTime), cancellationToken);
    }
}
