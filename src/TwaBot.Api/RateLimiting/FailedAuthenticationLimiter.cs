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
    private readonly ConcurrentDictionary<string, MinuteWindow> _clients = new(StringComparer.Ordinal);
    private readonly MinuteWindow _sweeps = new();

    /// <summary>Seconds until this address may try again, or null when it may try now.</summary>
    public int? BlockedFor(IPAddress? client)
    {
        var (minute, secondsLeft) = MinuteWindow.Now(time);
        return _clients.TryGetValue(Key(client), out var window) && window.IsFull(minute, Limit) ? window.SecondsUntilItEnds(minute, secondsLeft) : null;
    }

    public void RecordFailure(IPAddress? client)
    {
        var (minute, _) = MinuteWindow.Now(time);
        var key = Key(client);
        MinuteWindow.TryTake(_clients, key, minute, int.MaxValue, out var remaining, out _);
        var failures = int.MaxValue - remaining; // counted without a limit of its own: the limit is read at each request
        if (failures == Limit && logger is not null)
        {
            // Once per address and minute, by the failure that fills it: the 401s and 429s alone are request lines at Information.
            LogBlocked(logger, key, Limit);
        }

        if (_sweeps.StartedNewMinute(minute))
        {
            MinuteWindow.ForgetIdle(_clients, minute);
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
}
