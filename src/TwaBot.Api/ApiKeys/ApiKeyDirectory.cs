using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Data;

namespace TwaBot.Api.ApiKeys;

/// <summary>
/// Finds API keys by hash, keeping found keys for a short while so a busy key is not a database read
/// per request. Any admin change to keys or businesses clears it, so revocation is immediate.
/// (A dictionary rather than IMemoryCache: expiry follows the injected TimeProvider, and Clear is all
/// we need; unknown keys are never cached, so it holds at most the real keys.)
/// </summary>
public sealed class ApiKeyDirectory(IServiceScopeFactory scopes, TimeProvider time)
{
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<string, (ApiCaller Key, DateTimeOffset LoadedAt)> _byHash = new(StringComparer.Ordinal);
    private long _generation; // one more for each Invalidate

    /// <summary>Keys held in memory, for tests.</summary>
    internal int Count => _byHash.Count;

    public async ValueTask<ApiCaller?> FindAsync(byte[] keyHash, CancellationToken cancellationToken)
    {
        var cacheKey = Convert.ToHexString(keyHash);
        var now = time.GetUtcNow();
        if (_byHash.TryGetValue(cacheKey, out var cached) && now - cached.LoadedAt < CacheFor)
        {
            return cached.Key;
        }

        var generation = Volatile.Read(ref _generation);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
        var key = await db.ApiKeys.AsNoTracking()
            .Where(k => k.KeyHash == keyHash)
            .Select(k => new ApiCaller(
                k.Id, k.Name, k.BusinessId, k.Business!.Name, k.Business.Plan, k.Business.TimeZone,
                k.Permissions, k.PerMinuteLimit, k.DailyLimit, k.ExpiresAt, k.RevokedAt))
            .SingleOrDefaultAsync(cancellationToken);
        if (key is not null)
        {
            var entry = (key, now);
            _byHash[cacheKey] = entry;
            // A change committed while this read was under way (a revoke) must not be hidden for the cache's
            // lifetime by what the read found before it: such an entry is taken out again.
            if (Volatile.Read(ref _generation) != generation)
            {
                _byHash.TryRemove(KeyValuePair.Create(cacheKey, entry));
            }
        }

        return key;
    }

    /// <summary>Forget every cached key; the next request of each key reads the database. Call it after the change is saved.</summary>
    public void Invalidate()
    {
        Interlocked.Increment(ref _generation);
        _byHash.Clear();
    }
}
