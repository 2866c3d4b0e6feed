using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Data;

namespace TwaBot.Api.Conversations;

/// <summary>
/// How many BSUIDs each business has events held for (<see cref="HeldUserEvent"/>), in memory: every status report may show
/// a pair, and a business with nothing held must not pay a query for it; the count also bounds a business's holds without
/// counting rows at each. Only the webhook processor writes the table, one batch at a time. A count is an upper bound: it
/// rises as a row is held (before the batch commits, so later deliveries of the batch see it) and is read again from the
/// table, after the pass, for the businesses whose rows were held, applied or expired, and after a batch rolled back, before its
/// deliveries are applied again one by one.
/// </summary>
public sealed class HeldUserEventCounts
{
    /// <summary>How long held events wait for a pair after the last one held for their BSUID; as long as a parked status.</summary>
    public static readonly TimeSpan KeptFor = TimeSpan.FromDays(7);

    /// <summary>
    /// The most BSUIDs one business holds events for (a row is some 150 bytes: 15 MB at most). A BSUID already held keeps
    /// taking its later events; a new one past the bound is logged and dropped, as all were before events were held.
    /// </summary>
    public const int MaxPerBusiness = 100_000;

    private readonly Lock _lock = new();
    private Dictionary<long, int>? _counts; // null until read from the table (after a start)
    private readonly HashSet<long> _changed = [];

    public bool IsLoaded
    {
        get { lock (_lock) { return _counts is not null; } }
    }

    /// <summary>Whether anything may be held, or a count is to be read again.</summary>
    public bool AnyHeldOrChanged
    {
        get { lock (_lock) { return _counts is null || _changed.Count > 0 || _counts.Values.Any(c => c > 0); } }
    }

    /// <summary>Reads the counts from the table once after a start.</summary>
    public async Task LoadAsync(TwaBotDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (IsLoaded)
        {
            return;
        }

        var counts = await db.HeldUserEvents.GroupBy(h => h.BusinessId)
            .Select(g => new { BusinessId = g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.BusinessId, g => g.Count, cancellationToken);
        lock (_lock)
        {
            _counts ??= counts;
        }
    }

    public bool MayHave(long businessId)
    {
        lock (_lock)
        {
            return _counts is null || _counts.GetValueOrDefault(businessId) > 0;
        }
    }

    public bool IsFull(long businessId)
    {
        lock (_lock)
        {
            return _counts is not null && _counts.GetValueOrDefault(businessId) >= MaxPerBusiness;
        }
    }

    /// <summary>A new BSUID's events were held.</summary>
    public void Held(long businessId)
    {
        lock (_lock)
        {
            if (_counts is not null)
            {
                _counts[businessId] = _counts.GetValueOrDefault(businessId) + 1;
            }

            _changed.Add(businessId);
        }
    }

    /// <summary>Rows of the business were applied or expired: its count is read again after the pass.</summary>
    public void Changed(long businessId)
    {
        lock (_lock)
        {
            _changed.Add(businessId);
        }
    }

    /// <summary>Reads again the counts of the businesses whose rows changed; after the batches' commits, so the table is the truth.</summary>
    public async Task RecountChangedAsync(TwaBotDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        List<long> changed;
        lock (_lock)
        {
            changed = [.. _changed];
            _changed.Clear();
        }

        foreach (var businessId in changed)
        {
            var count = await db.HeldUserEvents.CountAsync(h => h.BusinessId == businessId, cancellationToken);
            lock (_lock)
            {
                if (_counts is not null)
                {
                    _counts[businessId] = count;
                }
            }
        }
    }
}
