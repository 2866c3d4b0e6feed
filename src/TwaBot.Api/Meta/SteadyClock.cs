namespace TwaBot.Api.Meta;

/// <summary>
/// The wall clock as it read when this was made, moved on by the elapsed time only: a step of the wall clock (an NTP
/// correction, a VM resumed with its clock set back) moves nothing. Polly's breaker keeps "open until" as a wall-clock
/// time, so on the system clock a step back of an hour paused a number's sends an hour longer than its break.
/// </summary>
internal sealed class SteadyClock(TimeProvider wall) : TimeProvider
{
    private readonly DateTimeOffset _started = wall.GetUtcNow();
    private readonly long _startedAt = wall.GetTimestamp();

    public override DateTimeOffset GetUtcNow() => _started + wall.GetElapsedTime(_startedAt);

    public override long GetTimestamp() => wall.GetTimestamp();

    public override long TimestampFrequency => wall.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => wall.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        wall.CreateTimer(callback, state, dueTime, period);
}
