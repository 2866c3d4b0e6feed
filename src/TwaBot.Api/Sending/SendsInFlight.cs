using System.Collections.Concurrent;

namespace TwaBot.Api.Sending;

/// <summary>
/// The message rows this process is sending right now (written, Meta's answer not yet recorded). The sweep of
/// interrupted sends leaves them alone: its "older than ten minutes" is read on the wall clock, which a clock set
/// forward can pass while a call to Meta is still under way, and Meta's answer would then find its row settled.
/// </summary>
public sealed class SendsInFlight
{
    private readonly ConcurrentDictionary<long, byte> _ids = new();

    public void Add(long messageId) => _ids.TryAdd(messageId, 0);

    public void Remove(long messageId) => _ids.TryRemove(messageId, out _);

    public long[] Snapshot() => [.. _ids.Keys];
}
