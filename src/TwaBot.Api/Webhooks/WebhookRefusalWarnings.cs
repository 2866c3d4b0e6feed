using System.Collections.Concurrent;

namespace TwaBot.Api.Webhooks;

/// <summary>
/// Lets the warning of a refused webhook request (a signature, a verification) through once a minute for each reason.
/// Anyone can reach <c>/webhooks/meta</c>: a warning per request would let a script fill the log at Warning, while the
/// operator needs only to learn that, and why, requests are refused. Each refused request keeps its own request line (401 or 403).
/// The reasons are a few fixed texts, so this holds a few entries at most.
/// </summary>
public sealed class WebhookRefusalWarnings(TimeProvider time)
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    // The monotonic timestamp of each reason's last warning: a clock stepped back does not silence a reason.
    private readonly ConcurrentDictionary<string, long> _lastWarned = new(StringComparer.Ordinal);

    /// <summary>True when no warning for <paramref name="reason"/> went out in the last minute; the caller then writes one.</summary>
    public bool IsDue(string reason)
    {
        var now = time.GetTimestamp();
        while (true)
        {
            if (!_lastWarned.TryGetValue(reason, out var last))
            {
                if (_lastWarned.TryAdd(reason, now))
                {
                    return true;
                }
            }
            else if (time.GetElapsedTime(last, now) < Interval)
            {
                return false;
            }
            else if (_lastWarned.TryUpdate(reason, now, last))
            {
                return true;
            }
        }
    }
}
