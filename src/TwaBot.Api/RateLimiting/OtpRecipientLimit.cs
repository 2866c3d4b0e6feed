using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TwaBot.Api.Configuration;
using TwaBot.Api.Data;
using TwaBot.Api.Messages;

namespace TwaBot.Api.RateLimiting;

/// <summary>
/// At most <c>TwaBot:RateLimits:OtpPerRecipientPerHour</c> OTPs from one business to one number in any hour
/// (reliability-notes §8, API4 and API6): a sign-up or login form that sends a code to whatever number it is
/// given would otherwise let anyone run up the business's bill ("OTP pumping") or flood a stranger's phone.
/// <para>
/// Kept like the daily cap (<see cref="DailyQuota"/>): a number's sending times of the last hour are loaded
/// from its OTP rows on first use, then held in memory, where taking a slot is a few instructions under a
/// lock, exact under concurrency in this one process and counted again from the rows after a restart. A
/// send holds its slot until Meta refuses it (then it does not count, as its row is failed); an accepted
/// send, or one whose outcome is unknown, keeps it.
/// </para>
/// </summary>
public sealed class OtpRecipientLimit(IServiceScopeFactory scopes, TimeProvider time, IOptionsMonitor<TwaBotOptions> options)
{
    public static readonly TimeSpan Window = TimeSpan.FromHours(1);

    private readonly ConcurrentDictionary<(long BusinessId, string Phone), Lazy<Task<RecentSends>>> _numbers = new();
    private long _sweptAtTicks;

    public int Limit => options.CurrentValue.RateLimits.OtpPerRecipientPerHour;

    /// <summary>Numbers held in memory, for tests.</summary>
    internal int Count => _numbers.Count;

    /// <summary>Takes a slot for an OTP to <paramref name="phone"/> now, or says when one frees up.</summary>
    public async Task<OtpDecision> TryReserveAsync(long businessId, string phone, CancellationToken cancellationToken)
    {
        var limit = Limit;
        if (limit <= 0)
        {
            return new OtpDecision(true, 0, 0, default);
        }

        SweepNow(time.GetUtcNow());
        phone = CountedAs(phone);
        while (true)
        {
            var lazy = _numbers.GetOrAdd((businessId, phone), key => new Lazy<Task<RecentSends>>(() => LoadAsync(key.BusinessId, key.Phone)));
            RecentSends sends;
            try
            {
                sends = await lazy.Value.WaitAsync(cancellationToken);
            }
            catch (Exception) when (lazy.Value.IsFaulted)
            {
                // A failed load (database busy) must not stick: the next send loads again.
                _numbers.TryRemove(KeyValuePair.Create((businessId, phone), lazy));
                throw;
            }

            // The time of the slot is read now, not before the load: a load may take a while, and the hour starts when the send goes.
            var now = time.GetUtcNow();
            switch (sends.TryTake(limit, now, out var secondsUntilFree))
            {
                case Taken.Slot:
                    return new OtpDecision(true, limit, 0, new OtpReservation(sends, now));
                case Taken.None:
                    return new OtpDecision(false, limit, secondsUntilFree, default);
                default:
                    // The sweep forgot the number between our look-up and the slot: take it from the number's next count.
                    _numbers.TryRemove(KeyValuePair.Create((businessId, phone), lazy));
                    break;
            }
        }
    }

    private async Task<RecentSends> LoadAsync(long businessId, string phone)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
        var now = time.GetUtcNow().UtcDateTime;
        var times = await RecentQuery(db, businessId, phone, now - Window).ToListAsync();
        // Rows the clock puts in the future (it stepped back since they were sent) are left out: counted, they would fill
        // the number's hour again on every load for as long as the step. In memory they count as sent at the step, for an hour.
        return new RecentSends(times.Where(t => t <= now).Select(t => new DateTimeOffset(t, TimeSpan.Zero)));
    }

    /// <summary>
    /// The number's OTPs since <paramref name="since"/> that count (not failed), under either of its forms, read through
    /// the partial index on OTP rows.
    /// </summary>
    internal static IQueryable<DateTime> RecentQuery(TwaBotDbContext db, long businessId, string phone, DateTime since)
    {
        var counted = CountedAs(phone);
        string[] forms = [counted, Phones.WaIdForms.WrittenNumberOf(counted) ?? counted];
        return db.Messages.AsNoTracking()
            .Where(m => m.BusinessId == businessId && m.Kind == MessageKinds.Otp && forms.Contains(m.To)
                && m.CreatedAt > since && m.ApiStatus != ApiStatuses.Failed)
            .Select(m => m.CreatedAt);
    }

    /// <summary>
    /// The number an OTP counts against: its wa_id form. A Brazilian, Mexican or Argentine mobile written as its wa_id
    /// or as the number reaches the same phone (<see cref="Phones.WaIdForms"/>), so both forms share one count:
    /// otherwise alternating them would double the cap on one phone.
    /// </summary>
    private static string CountedAs(string phone) => Phones.WaIdForms.WaIdOf(phone) ?? phone;

    /// <summary>
    /// Forgets numbers with nothing sent in the last hour, at most once a window (and by one request at a time), so
    /// the map stays small while OTPs come. A number is retired under its lock before it is dropped, so no slot is taken
    /// from a count no longer in the map.
    /// </summary>
    private void SweepNow(DateTimeOffset now)
    {
        var sweptAt = Interlocked.Read(ref _sweptAtTicks);
        // A sweep "in the future" (the clock stepped back since) is due now: waiting for the clock to catch up would keep
        // every number for as long as the step.
        var sinceSweep = now.UtcTicks - sweptAt;
        if (sinceSweep is >= 0 && sinceSweep < Window.Ticks
            || Interlocked.CompareExchange(ref _sweptAtTicks, now.UtcTicks, sweptAt) != sweptAt)
        {
            return;
        }

        ForgetIdleNumbers(now);
    }

    /// <summary>
    /// Forgets the numbers with nothing sent in the hour before <paramref name="now"/>. Also run every hour by
    /// <see cref="IdleOtpNumberSweeper"/>: when OTPs stop coming (a sign-up form gone quiet), no next OTP sweeps, and the
    /// numbers (personal data) would stay in memory until a restart.
    /// </summary>
    internal void ForgetIdleNumbers(DateTimeOffset now)
    {
        foreach (var (key, lazy) in _numbers)
        {
            if (lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully && lazy.Value.Result.TryRetire(now))
            {
                _numbers.TryRemove(KeyValuePair.Create(key, lazy));
            }
        }
    }

    /// <summary>What <see cref="RecentSends.TryTake"/> did: took a slot, found the number full, or found its count retired.</summary>
    internal enum Taken
    {
        Slot,
        None,
        Retired,
    }

    /// <summary>One number's sending times in the last hour, oldest first.</summary>
    internal sealed class RecentSends(IEnumerable<DateTimeOffset> times)
    {
        private readonly List<DateTimeOffset> _times = [.. times.Order()];
        private bool _retired;

        public Taken TryTake(int limit, DateTimeOffset now, out int secondsUntilFree)
        {
            lock (_times)
            {
                secondsUntilFree = 0;
                if (_retired)
                {
                    return Taken.Retired;
                }

                CountFutureSendsAsNow(now);
                _times.RemoveAll(t => t <= now - Window);
                if (_times.Count < limit)
                {
                    _times.Add(now); // the latest: times after now were counted as now just above
                    return Taken.Slot;
                }

                // A slot frees up when the hour has left enough of them behind: the oldest when the number is just full, a
                // later one when the cap was lowered since. A started second counts as a whole one.
                var freeing = _times[_times.Count - limit];
                secondsUntilFree = Math.Max(1, (int)Math.Ceiling((freeing + Window - now).TotalSeconds));
                return Taken.None;
            }
        }

        public void GiveBack(DateTimeOffset taken)
        {
            lock (_times)
            {
                // A slot moved back to "now" by a clock step is given back as the latest one at or before its time.
                if (!_times.Remove(taken) && _times.FindLastIndex(t => t <= taken) is >= 0 and var moved)
                {
                    _times.RemoveAt(moved);
                }
            }
        }

        // Sends the clock now puts in the future (it stepped back since) count as sent now, so they hold their slots for
        // an hour from here at most: left as they are, they would fill the number's hour for as long as the step, and
        // the wait (Retry-After) would be the step's length too.
        private void CountFutureSendsAsNow(DateTimeOffset now)
        {
            for (var i = _times.Count - 1; i >= 0 && _times[i] > now; i--)
            {
                _times[i] = now;
            }
        }

        /// <summary>Retires the count when nothing of the last hour is in it; a retired count takes no slot.</summary>
        public bool TryRetire(DateTimeOffset now)
        {
            lock (_times)
            {
                CountFutureSendsAsNow(now);
                _retired = _times.All(t => t <= now - Window);
                return _retired;
            }
        }
    }
}

/// <summary>
/// Whether an OTP may go to the number now, the cap, and when refused the seconds until a slot frees up (the number's
/// oldest OTP of the hour leaves the window); when allowed, the slot the send now holds.
/// </summary>
public readonly record struct OtpDecision(bool Allowed, int Limit, int SecondsUntilFree, OtpReservation Reservation);

/// <summary>The slot an OTP send holds; given back when Meta refuses the send.</summary>
public readonly record struct OtpReservation
{
    private readonly OtpRecipientLimit.RecentSends? _sends;
    private readonly DateTimeOffset _taken;

    internal OtpReservation(OtpRecipientLimit.RecentSends sends, DateTimeOffset taken) => (_sends, _taken) = (sends, taken);

    public void GiveBack() => _sends?.GiveBack(_taken);
}
