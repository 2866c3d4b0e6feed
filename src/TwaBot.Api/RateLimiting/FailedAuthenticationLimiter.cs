using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;
using TwaBot.Api.Configuration;

namespace TwaBot.Api.RateLimiting;

/// <summary>
/// Slows key guessing: a client address that presented
/// <c>TwaBot:RateLimits:FailedAuthPerMinute</c> wrong keys this minute gets 429 for every further
/// attempt until the minute ends. Counted per address and apart from the per-minute budgets, so
/// unauthenticated traffic never spends what paying keys are allowed. An IPv6 client is counted by its /64:
/// one host or network holds a whole /64 (privacy addresses change within it), so a guesser that changes
/// address at every try would otherwise never be slowed.
/// </summary>
public sealed partial class FailedAuthenticationLimiter(
    TimeProvider time, IOptionsMonitor<TwaBotOptions> options, ILogger<FailedAuthenticationLimiter>? logger = null)
{
    /// <summary>
    /// Addresses counted at once (about 200 bytes each). Addresses are free to whoever holds a few IPv6 networks; past
    /// this many in one minute, further addresses go uncounted until the next, rather than growing memory without end.
    /// </summary>
    internal const int MaxAddresses = 100_000;

    private readonly ConcurrentDictionary<string, MinuteWindow> _clients = new(StringComparer.Ordinal);
    private int _count; // entries in _clients (ConcurrentDictionary.Count takes every lock of the map)
    private long _sweptMinute = -1;
    private long _fullLoggedMinute = -1;

    /// <summary>Addresses counted now, for tests.</summary>
    internal int Count => Volatile.Read(ref _count);

    /// <summary>Seconds until this address may try again, or null when it may try now.</summary>
    public int? BlockedFor(IPAddress? client)
    {
        var (minute, secondsLeft) = MinuteWindow.Now(time);
        SweepOncePerMinute(minute); // here too: after a burst of guesses, any later request frees what it left
        return _clients.TryGetValue(Key(client), out var window) && window.IsFull(minute, Limit) ? window.SecondsUntilItEnds(minute, secondsLeft) : null;
    }

    /// <summary>
    /// Counts a wrong key. Returns the seconds until the address may try again when this one went past the limit, else
    /// null: guesses sent at once each passed <see cref="BlockedFor"/> before any was counted (an API key is looked up in
    /// the database in between), and those past the limit are answered 429 too, so no address gets more wrong-key answers
    /// in a minute than the limit.
    /// </summary>
    public int? RecordFailure(IPAddress? client)
    {
        var (minute, secondsLeft) = MinuteWindow.Now(time);
        SweepOncePerMinute(minute);
        var key = Key(client);
        if (!TryCount(key, minute, out var failures, out var window))
        {
            if (logger is not null && Interlocked.Exchange(ref _fullLoggedMinute, minute) != minute)
            {
                LogTooManyAddresses(logger, MaxAddresses);
            }

            return null;
        }

        var limit = Limit;
        if (failures == limit && logger is not null)
        {
            // Once per address and minute, by the failure that fills it: the 401s and 429s alone are request lines at Information.
            LogBlocked(logger, key, limit);
        }

        return failures > limit ? window.SecondsUntilItEnds(minute, secondsLeft) : null;
    }

    /// <summary>Counts a failure of <paramref name="key"/>; false when the address is new and the map is full.</summary>
    private bool TryCount(string key, long minute, out int failures, out MinuteWindow window)
    {
        while (true)
        {
            if (!_clients.TryGetValue(key, out window!))
            {
                if (Volatile.Read(ref _count) >= MaxAddresses)
                {
                    failures = 0;
                    return false;
                }

                window = new MinuteWindow();
                if (!_clients.TryAdd(key, window))
                {
                    continue;
                }

                Interlocked.Increment(ref _count);
            }

            // Counted without a limit of its own (the limit is read at each request); null when a sweep forgot the window.
            if (window.Take(minute, int.MaxValue, out var remaining) is not null)
            {
                failures = int.MaxValue - remaining;
                return true;
            }
        }
    }

    /// <summary>Drops the addresses with no failure this minute, by the first request of each minute (a read of one field for the others).</summary>
    private void SweepOncePerMinute(long minute)
    {
        // A request that read the clock just before the minute turned is no new minute (nor a clock stepped back).
        var swept = Volatile.Read(ref _sweptMinute);
        if (minute != swept && minute != swept - 1 && Interlocked.CompareExchange(ref _sweptMinute, minute, swept) == swept)
        {
            Interlocked.Add(ref _count, -MinuteWindow.ForgetIdle(_clients, minute));
        }
    }

    private int Limit => options.CurrentValue.RateLimits.FailedAuthPerMinute;

    private static string Key(IPAddress? client)
    {
        if (client is null)
        {
            return "unknown";
        }

        if (client.IsIPv4MappedToIPv6)
        {
            return client.MapToIPv4().ToString(); // a dual-stack socket's IPv4 client
        }

        if (client.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return client.ToString();
        }

        var network = client.GetAddressBytes();
        Array.Clear(network, 8, 8);
        return new IPAddress(network) + "/64";
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Client address {ClientAddress} presented {Limit} wrong API or admin keys this minute; "
        + "every request from it is refused (429) until the minute ends")]
    private static partial void LogBlocked(ILogger logger, string clientAddress, int limit);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Wrong API or admin keys came from more than {MaxAddresses} client addresses this minute; "
        + "the wrong keys of further addresses are not counted (still refused, 401) until the minute ends")]
    private static partial void LogTooManyAddresses(ILogger logger, int maxAddresses);
}
