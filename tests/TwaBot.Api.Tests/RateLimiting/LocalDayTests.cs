using TwaBot.Api.RateLimiting;

namespace TwaBot.Api.Tests.RateLimiting;

/// <summary>The daily cap's day: the business's calendar date, and the real seconds to its midnight.</summary>
public class LocalDayTests
{
    [Theory]
    [InlineData("Asia/Kolkata", "2026-04-14T10:30:45Z", "2026-04-14", 28755)]
    [InlineData("Asia/Kolkata", "2026-04-14T18:29:59Z", "2026-04-14", 1)]
    [InlineData("Asia/Kolkata", "2026-04-14T18:30:00Z", "2026-04-15", 86400)]
    [InlineData("UTC", "2026-04-14T23:59:59.100Z", "2026-04-14", 1)]
    [InlineData("America/New_York", "2026-04-14T18:30:00Z", "2026-04-14", 34200)]
    // The day clocks spring forward is 23 hours long, the day they fall back 25.
    [InlineData("America/New_York", "2026-03-08T05:00:00Z", "2026-03-08", 82800)]
    [InlineData("America/New_York", "2026-11-01T04:00:00Z", "2026-11-01", 90000)]
    [InlineData("Pacific/Kiritimati", "2026-04-14T09:59:59Z", "2026-04-14", 1)]
    public void DayAndSecondsToMidnight(string timeZone, string instant, string date, int seconds)
    {
        var day = LocalDay.Of(timeZone, DateTimeOffset.Parse(instant, System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(DateOnly.Parse(date, System.Globalization.CultureInfo.InvariantCulture), day.Date);
        Assert.Equal(seconds, day.SecondsToMidnight);
    }
}
