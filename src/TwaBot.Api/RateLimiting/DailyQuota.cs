using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TwaBot.Api.ApiKeys;
using TwaBot.Api.Businesses;
using TwaBot.Api.Configuration;
using TwaBot.Api.Data;
using TwaBot.Api.Messages;

namespace TwaBot.Api.RateLimiting;

/// <summary>
/// The daily send cap per key, counted in the key's business's local day. A send reserves a unit
/// before Meta is called and gives it back when a later check or Meta refuses, so only messages Meta
/// accepted (or may have accepted) count.
/// <para>
/// The durable truth is the message rows: every reserved send that reaches Meta has a row, written
/// before the call and tagged with its quota day; failed rows do not count, pending and unknown ones
/// do (Meta may have sent them). A (key, day) counter is loaded from those rows on first use and then
/// kept in memory, where a reservation is a few instructions under a lock: exact under any concurrency
/// in this process (the server is one process on one SQLite file), durable across restarts and
/// crashes (a crash before the row loses only an unsent reservation; after it, the row counts), and
/// with no extra database write on the send path.
/// </para>
/// </summary>
public sealed class DailyQuota(IServiceScopeFactory scopes, TimeProvider time, IOptionsMonitor<TwaBotOptions> options)
{
    private readonly ConcurrentDictionary<(long KeyId, DateOnly Day), Lazy<Task<DayCounter>>> _counters = new();
    private readonly ConcurrentDictionary<long, string> _zonesSet = new(); // per business, the zone its last change here set
    private DateOnly _sweptBefore;

    /// <summary>The key's cap: its admin override, else its plan's; null when the plan cannot send.</summary>
    public int? LimitFor(ApiCaller caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return caller.DailyLimit ?? caller.Plan switch
        {
            Plan.Growth => options.CurrentValue.Plans.Growth.DailyLimit,
            Plan.Pro => options.CurrentValue.Plans.Pro.DailyLimit,
            _ => null,
        };
    }

    /// <summary>Takes one unit of today's cap, or says how full it is.</summary>
    public async Task<DailyDecision> TryReserveAsync(ApiCaller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var limit = LimitFor(caller) ?? 0;
        var today = LocalDay.Of(caller.TimeZone, time.GetUtcNow());
        var counter = await CounterAsync(caller.KeyId, today.Date, cancellationToken);
        var taken = counter.TryTake(limit, out var used);
        return new DailyDecision(taken, limit, used, today.SecondsToMidnight, today.LengthSeconds,
            new DailyReservation(caller.KeyId, today.Date) { Counter = taken ? counter : null });
    }

    /// <summary>
    /// Gives a unit back: a later check or Meta refused the send. Only to the counter it was taken from, while
    /// that is still the key's counter: one loaded again since (it was still loading at a time zone change) counted
    /// from the rows, where a refused send counts as failed.
    /// </summary>
    public void Refund(DailyReservation reservation)
    {
        if (Holds(reservation))
        {
            reservation.Counter!.GiveBack();
        }
    }

    /// <summary>
    /// A business's time zone changed, and with it what "today" is for its keys. Their rows of the last
    /// days are tagged again with their local date in the new zone, and each of its keys' counters moves by
    /// the rows that came onto or left its day, so today's count holds the sends made earlier today under the old zone.
    /// A counter is not loaded again from the rows: the units of sends in flight (reserved, their rows not written
    /// yet) are in no row, and a count from the rows alone let the key send as many more than its cap.
    /// <para>
    /// It runs in the admin write's turn at the write gate, so every send's row waits for it and no row is written
    /// between the counts before and after: one statement in SQL, not the rows read and converted here (3–4 s for a
    /// business with 150,000 sends in those days).
    /// </para>
    /// </summary>
    public async Task TimeZoneChangedAsync(TwaBotDbContext db, long businessId, string timeZone, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        _zonesSet[businessId] = timeZone; // before the rows move: a send whose row is written after them sees it (FollowRowAsync)
        var now = time.GetUtcNow();
        var keyIds = await db.ApiKeys.Where(k => k.BusinessId == businessId).Select(k => k.Id).ToListAsync(cancellationToken);
        var loaded = _counters.Where(c => keyIds.Contains(c.Key.KeyId) && c.Value.IsValueCreated && c.Value.Value.IsCompletedSuccessfully).ToList();
        var before = await RowsCountedAsync(db, loaded, cancellationToken);
        var (retag, parameters) = RetagStatement(businessId, timeZone, now);
        await db.Database.ExecuteSqlRawAsync(retag, parameters, cancellationToken);
        var after = await RowsCountedAsync(db, loaded, cancellationToken);

        // Only this business's keys' counters move; other businesses' stay as they are.
        for (var i = 0; i < loaded.Count; i++)
        {
            loaded[i].Value.Value.Result.Move(after[i] - before[i]);
        }

        foreach (var (key, lazy) in _counters.Where(c => keyIds.Contains(c.Key.KeyId) && !loaded.Exists(l => ReferenceEquals(l.Value, c.Value))))
        {
            _counters.TryRemove(KeyValuePair.Create(key, lazy)); // still loading: it may have read the rows before they moved
        }
    }

    /// <summary>
    /// Whether the caller's business changed its time zone in this process since the caller's key was read: a send of
    /// it may then hold a unit of, and tag its row with, a day the business is no longer on (<see cref="FollowRowAsync"/>).
    /// </summary>
    public bool ZoneChangedSince(ApiCaller caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return _zonesSet.TryGetValue(caller.BusinessId, out var zone) && zone != caller.TimeZone;
    }

    /// <summary>
    /// A send's unit follows its row through a zone change of its business. The change tags again the rows already
    /// written and moves their units; a row written after it still carries the old zone's day (its unit was reserved
    /// under that zone), and the key could send once more than its cap on the new zone's day. Here such a row is tagged
    /// with its day in the business's zone and its unit moved there; either way the returned reservation names the
    /// counter that holds the unit now, so a refusal from Meta gives it back there. To be called holding the write gate,
    /// with the row written and still pending, so that no zone change runs in between.
    /// </summary>
    public async Task<DailyReservation> FollowRowAsync(
        TwaBotDbContext db, DailyReservation reservation, long businessId, long messageId, DateTime createdAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var rowDay = await db.Messages.Where(m => m.Id == messageId).Select(m => m.QuotaDay).SingleAsync(cancellationToken);
        var zone = await db.Businesses.Where(b => b.Id == businessId).Select(b => b.TimeZone).SingleAsync(cancellationToken);
        var day = LocalDay.Of(zone, new DateTimeOffset(createdAt, TimeSpan.Zero)).Date;
        var moved = rowDay != day;
        if (moved)
        {
            await db.Messages.Where(m => m.Id == messageId).ExecuteUpdateAsync(set => set.SetProperty(m => m.QuotaDay, day), cancellationToken);
        }

        if (reservation.Day == day || reservation.Counter is null)
        {
            return reservation;
        }

        if (moved && Holds(reservation))
        {
            reservation.Counter.Move(-1); // the unit leaves the day its row left
        }

        DayCounter counter;
        if (_counters.TryGetValue((reservation.KeyId, day), out var lazy) && lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
        {
            counter = lazy.Value.Result; // counts the unit already when the zone change moved the row here
            if (moved)
            {
                counter.Move(1);
            }
        }
        else
        {
            if (lazy is not null)
            {
                _counters.TryRemove(KeyValuePair.Create((reservation.KeyId, day), lazy)); // may have read the rows before the row moved
            }

            counter = await CounterAsync(reservation.KeyId, day, cancellationToken); // counts the row, pending
        }

        return new DailyReservation(reservation.KeyId, day) { Counter = counter };
    }

    /// <summary>Whether the reservation's counter is still the key's counter of its day.</summary>
    private bool Holds(DailyReservation reservation) =>
        reservation.Counter is { } taken
        && _counters.TryGetValue((reservation.KeyId, reservation.Day), out var counter) && counter.IsValueCreated
        && counter.Value.IsCompletedSuccessfully && ReferenceEquals(counter.Value.Result, taken);

    private static async Task<int[]> RowsCountedAsync(
        TwaBotDbContext db, List<KeyValuePair<(long KeyId, DateOnly Day), Lazy<Task<DayCounter>>>> counters, CancellationToken cancellationToken)
    {
        var counts = new int[counters.Count];
        for (var i = 0; i < counters.Count; i++)
        {
            counts[i] = await RowsCounted(db, counters[i].Key.KeyId, counters[i].Key.Day).CountAsync(cancellationToken);
        }

        return counts;
    }

    /// <summary>The rows that count against a key's day: every send that reached Meta but those it refused.</summary>
    private static IQueryable<Message> RowsCounted(TwaBotDbContext db, long keyId, DateOnly day) =>
        db.Messages.Where(m => m.ApiKeyId == keyId && m.QuotaDay == day && m.ApiStatus != ApiStatuses.Failed);

    /// <summary>
    /// Sends written before the daily cap existed have no quota day (its migration left 0001-01-01, since
    /// SQL cannot work out a local date): they are tagged with their date in their business's zone, so a
    /// database upgraded from then counts the day's earlier sends against the cap. Runs at every start, before
    /// the first request (a start stopped between migrating and tagging left them for the next); no untagged
    /// row is written since.
    /// </summary>
    public static async Task TagUntaggedSendsAsync(TwaBotDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        // One look into each key's (api_key_id, quota_day) index, not a scan of every message: CROSS JOIN keeps
        // api_keys the outer loop. A routine start finds nothing here.
        var untagged = await db.Database.SqlQueryRaw<bool>("""
            SELECT EXISTS (SELECT 1 FROM api_keys AS k CROSS JOIN messages AS m ON m.api_key_id = k.id AND m.quota_day = '0001-01-01') AS "Value"
            """).SingleAsync(cancellationToken);
        if (!untagged)
        {
            return;
        }

        var rows = await db.Messages.AsNoTracking()
            .Where(m => m.QuotaDay == DateOnly.MinValue)
            .Join(db.Businesses, m => m.BusinessId, b => b.Id, (m, b) => new { m.Id, m.CreatedAt, b.TimeZone })
            .ToListAsync(cancellationToken);
        await SetQuotaDaysAsync(db, rows.GroupBy(r => LocalDay.Of(r.TimeZone, new DateTimeOffset(r.CreatedAt, TimeSpan.Zero)).Date, r => r.Id), cancellationToken);
    }

    /// <summary>
    /// Tags each group's message rows with its day, <see cref="RetagBatch"/> rows a statement: a busy key's day is more rows
    /// than SQLite binds parameters in one statement (32,766), and a statement of thousands of them took most of a second.
    /// Only for the start-up's untagged rows: they span any days in every business's zone, not a few days' bounds in one
    /// zone, and it runs once before the first request, when no send waits.
    /// </summary>
    private static async Task SetQuotaDaysAsync(TwaBotDbContext db, IEnumerable<IGrouping<DateOnly, long>> days, CancellationToken cancellationToken)
    {
        // One commit (one disk sync) for all the statements, not one each.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        foreach (var day in days)
        {
            foreach (var ids in day.Chunk(RetagBatch))
            {
                await db.Messages.Where(m => ids.Contains(m.Id)).ExecuteUpdateAsync(set => set.SetProperty(m => m.QuotaDay, day.Key), cancellationToken);
            }
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private const int RetagBatch = 500;

    /// <summary>
    /// One statement that tags the business's recent rows with their day in the zone, read through the (api_key_id, quota_day)
    /// index: each row's day is the one whose UTC start and end enclose its created_at (23 or 25 hours across a DST change).
    /// </summary>
    internal static (string Sql, List<SqliteParameter> Parameters) RetagStatement(long businessId, string timeZone, DateTimeOffset now)
    {
        var since = DateOnly.FromDateTime(now.UtcDateTime).AddDays(-2); // every zone's today and yesterday
        // Rows tagged since then were made at most 14 hours (the furthest zone east) before it began in UTC, none after tomorrow.
        var first = LocalDay.Of(timeZone, new DateTimeOffset(since.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).AddHours(-14)).Date;
        var last = LocalDay.Of(timeZone, now).Date.AddDays(1);
        var parameters = new List<SqliteParameter>
        {
            new("$business", businessId),
            new("$since", PreparedCommands.Text(since)),
            new("$start", Instant(LocalDay.Start(timeZone, first))),
        };
        var newDay = new StringBuilder("CASE WHEN created_at < $start THEN quota_day");
        for (var (day, i) = (first, 0); day <= last; day = day.AddDays(1), i++)
        {
            // created_at is TEXT in one format (PreparedCommands.DateTimeFormat), whose text order is time order.
            newDay.Append(CultureInfo.InvariantCulture, $" WHEN created_at < $end{i} THEN $day{i}");
            parameters.Add(new($"$end{i}", Instant(LocalDay.Start(timeZone, day.AddDays(1)))));
            parameters.Add(new($"$day{i}", PreparedCommands.Text(day)));
        }

        newDay.Append(" ELSE quota_day END");
        return ($"""
            UPDATE messages SET quota_day = {newDay}
            WHERE api_key_id IN (SELECT id FROM api_keys WHERE business_id = $business) AND quota_day >= $since AND quota_day <> {newDay}
            """, parameters);
    }

    private static string Instant(DateTimeOffset instant) => PreparedCommands.Text(instant.UtcDateTime);

    /// <summary>Loads today's count of the key's cap, for <see cref="Current"/>; nothing when the plan has no cap.</summary>
    public async Task LoadTodayAsync(ApiCaller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (LimitFor(caller) is null)
        {
            return;
        }

        var today = LocalDay.Of(caller.TimeZone, time.GetUtcNow());
        await CounterAsync(caller.KeyId, today.Date, cancellationToken);
    }

    /// <summary>Today's use as last loaded, for the RateLimit headers, without touching the database (null before <see cref="LoadTodayAsync"/>).</summary>
    public DailyDecision? Current(ApiCaller caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var today = LocalDay.Of(caller.TimeZone, time.GetUtcNow());
        return LimitFor(caller) is { } limit && _counters.TryGetValue((caller.KeyId, today.Date), out var counter)
            && counter.IsValueCreated && counter.Value.IsCompletedSuccessfully
                ? new DailyDecision(true, limit, counter.Value.Result.Used, today.SecondsToMidnight, today.LengthSeconds, default)
                : null;
    }

    /// <summary>
    /// Today's use for the RateLimit headers: as last loaded, or loaded now when today began after the request's
    /// <see cref="LoadTodayAsync"/> (a request across the business's midnight), so the headers describe the new day.
    /// Null when the plan has no cap, or when that rare load fails: the headers then leave the day out, the answer stands.
    /// </summary>
    public async ValueTask<DailyDecision?> CurrentAsync(ApiCaller caller, CancellationToken cancellationToken)
    {
        if (Current(caller) is { } loaded)
        {
            return loaded;
        }

        if (LimitFor(caller) is null)
        {
            return null;
        }

        try
        {
            await LoadTodayAsync(caller, cancellationToken);
        }
        catch (Exception exception) when (exception is SqliteException or OperationCanceledException)
        {
            return null;
        }

        return Current(caller);
    }

    private async Task<DayCounter> CounterAsync(long keyId, DateOnly day, CancellationToken cancellationToken)
    {
        ForgetPastDays(day);
        var lazy = _counters.GetOrAdd((keyId, day), key => new Lazy<Task<DayCounter>>(() => LoadAsync(key.KeyId, key.Day)));
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken);
        }
        catch (Exception) when (lazy.Value.IsFaulted)
        {
            // A failed load (database busy) must not stick: the next request loads again.
            _counters.TryRemove(KeyValuePair.Create((keyId, day), lazy));
            throw;
        }
    }

    private async Task<DayCounter> LoadAsync(long keyId, DateOnly day)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
        var used = await RowsCounted(db, keyId, day).CountAsync();
        return new DayCounter(used);
    }

    /// <summary>Counters of days that ended everywhere (two days back covers every time zone) are dropped.</summary>
    private void ForgetPastDays(DateOnly day)
    {
        var cutoff = day.AddDays(-2);
        if (cutoff <= _sweptBefore)
        {
            return;
        }

        _sweptBefore = cutoff;
        foreach (var key in _counters.Keys.Where(k => k.Day < cutoff))
        {
            _counters.TryRemove(key, out _);
        }
    }

    internal sealed class DayCounter(int used)
    {
        private readonly Lock _lock = new();

        public int Used
        {
            get
            {
                lock (_lock)
                {
                    return used;
                }
            }
        }

        public bool TryTake(int limit, out int usedNow)
        {
            lock (_lock)
            {
                if (used >= limit)
                {
                    usedNow = used;
                    return false;
                }

                usedNow = ++used;
                return true;
            }
        }

        /// <summary>Moves the count by the rows that came onto (or left) its day when the business's zone changed.</summary>
        public void Move(int rows)
        {
            lock (_lock)
            {
                used = Math.Max(0, used + rows);
            }
        }

        public void GiveBack()
        {
            lock (_lock)
            {
                used = Math.Max(0, used - 1);
            }
        }
    }
}

/// <summary>A reserved unit, to give back if the send does not reach Meta.</summary>
public readonly record struct DailyReservation(long KeyId, DateOnly Day)
{
    /// <summary>The counter the unit was taken from (null when none was taken): a unit goes back only there.</summary>
    internal DailyQuota.DayCounter? Counter { get; init; }
}

/// <summary>A reservation's outcome, with what the 429 body and the RateLimit headers need.</summary>
public readonly record struct DailyDecision(bool Allowed, int Limit, int Used, int SecondsToMidnight, int DaySeconds, DailyReservation Reservation)
{
    public int Remaining => Math.Max(0, Limit - Used);
}
