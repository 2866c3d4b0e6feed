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
    private DateTimeOffset _sweptAt;

    public int Limit => options.CurrentValue.RateLimits.OtpPerRecipientPerHour;

    /// <summary>Takes a slot for an OTP to <paramref name="phone"/> now, or says when the oldest one frees up.</summary>
    public async Task<OtpDecision> TryReserveAsync(long businessId, string phone, CancellationToken cancellationToken)
    {
        var limit = Limit;
        var now = time.GetUtcNow();
        SweepNow(now);
        var lazy = _numbers.GetOrAdd((businessId, phone), key => new Lazy<Task<RecentSends>>(() => LoadAsync(key.BusinessId, key.Phone, now)));
        RecentSends sends;
        try
        {
            sends = await lazy.Value.WaitAsync(cancellationToken);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            _numbers.TryRemove(new KeyValuePair<(long, string), Lazy<Task<RecentSends>>>((businessId, phone), lazy)); // the next send loads again
            throw;
        }

        return sends.TryTake(limit, now, out var secondsUntilFree)
            ? new OtpDecision(true, limit, 0, new OtpReservation(sends, now))
            : new OtpDecision(false, limit, secondsUntilFree, default);
    }

    private async Task<RecentSends> LoadAsync(long businessId, string phone, DateTimeOffset now)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
        var since = (now - Window).UtcDateTime;
        var times = await db.Messages.AsNoTracking()
            .Where(m => m.BusinessId == businessId && m.Kind == MessageKinds.Otp && m.To == phone
                && m.CreatedAt > since && m.ApiStatus != ApiStatuses.Failed)
            .Select(m => m.CreatedAt)
            .ToListAsync();
        return new RecentSends(times.Select(t => new DateTimeOffset(t, TimeSpan.Zero)));
    }

    /// <summary>Forgets numbers with nothing sent in the last hour, at most once a window, so the map stays small.</summary>
    private void SweepNow(DateTimeOffset now)
    {
        if (now - _sweptAt < Window)
        {
            return;
        }

        _sweptAt = now;
        foreach (var (key, lazy) in _numbers)
        {
            if (lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully && lazy.Value.Result.IsIdle(now))
            {
                _numbers.TryRemove(new KeyValuePair<(long, string), Lazy<Task<RecentSends>>>(key, lazy));
            }
        }
    }

    /// <summary>One number's sending times in the last hour, oldest first.</summary>
    internal sealed class RecentSends(IEnumerable<DateTimeOffset> times)
    {
        private readonly List<DateTimeOffset> _times = [.. times.Order()];

        public bool TryTake(int limit, DateTimeOffset now, out int secondsUntilFree)
        {
            lock (_times)
            {
                _times.RemoveAll(t => t <= now - Window);
                if (_times.Count < limit)
                {
                    _times.Add(now);
                    secondsUntilFree = 0;
                    return true;
                }

                // The oldest of the hour leaves the window first; count a started second as a whole one.
                secondsUntilFree = Math.Max(1, (int)Math.Ceiling((_times[0] + Window - now).TotalSeconds));
                return false;
            }
        }

        public void GiveBack(DateTimeOffset taken)
        {
            lock (_times)
            {
                _times.Remove(taken);
            }
        }

        public bool IsIdle(DateTimeOffset now)
        {
            lock (_times)
            {
                return _times.All(t => t <= now - Window);
            }
        }
    }
}

/// <summary>
/// Whether an OTP may go to the number now, the cap, and when refused the seconds until the number's oldest OTP of
/// the hour leaves the window; when allowed, the slot the send now holds.
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
