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

    /// <summary>Counts the changes: read before a request's key is found, it tells later whether one was saved since.</summary>
    public long Generation => Volatile.Read(ref _generation);

    /// <summary>
    /// The request's key as it is now, for what is written as its answer starts: found again when a change to keys or
    /// businesses was saved since the request's key was found (a send held at Meta across a PATCH of its key's daily
    /// limit or its business's plan or time zone, whose RateLimit headers described the old cap), else as found.
    /// </summary>
    public async ValueTask<ApiCaller> AsItIsNowAsync(HttpContext context, ApiCaller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Features.Get<ApiKeyFound>() is not { } found || found.Generation == Generation)
        {
            return caller;
        }

        try
        {
            return await FindAsync(found.KeyHash, cancellationToken) ?? caller;
        }
        catch (Exception exception) when (exception is Microsoft.Data.Sqlite.SqliteException or OperationCanceledException)
        {
            return caller; // the answer stands; its headers describe the key as the request found it
        }
    }

    /// <summary>Forget every cached key; the next request of each key reads the database. Call it after the change is saved.</summary>
    public void Invalidate()
    {
        Interlocked.Increment(ref _generation);
        _byHash.Clear();
    }
}

/// <summary>How the request's key was found: its hash, and the directory's <see cref="ApiKeyDirectory.Generation"/> just before.</summary>
public sealed record ApiKeyFound(byte[] KeyHash, long Generation);
