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
    // Midnight twice (Havana and the Azores fall back from 01:00 to 00:00): the day ends at the first one.
    [InlineData("America/Havana", "2026-10-31T16:00:00Z", "2026-10-31", 43200)]
    [InlineData("America/Havana", "2026-11-01T03:59:59Z", "2026-10-31", 1)]
    [InlineData("Atlantic/Azores", "2026-10-24T23:30:00Z", "2026-10-24", 1800)]
    // A fraction of a second left over a whole one rounds up, not to the nearest (1.3 s is 2, not 1).
    [InlineData("UTC", "2026-04-14T23:59:58.700Z", "2026-04-14", 2)]
    [InlineData("Asia/Kolkata", "2026-04-14T18:29:57.200Z", "2026-04-14", 3)]
    // Midnight that does not exist (Havana springs forward from 00:00 to 01:00 on 8 March 2026): the day ends at
    // 01:00 daylight time, the same instant as 00:00 standard time (05:00 UTC).
    [InlineData("America/Havana", "2026-03-07T17:00:00Z", "2026-03-07", 43200)]
    [InlineData("America/Havana", "2026-03-08T04:59:59Z", "2026-03-07", 1)]
    [InlineData("America/Havana", "2026-03-08T05:00:00Z", "2026-03-08", 82800)]
    // Clock changes .NET misplaces reading a local midnight: Amman sprang forward from 00:00 to 01:00 on 26 March 2021
    // (22:00 UTC), and Apia skipped 30 December 2011 (29 December ended at 10:00 UTC on the 30th).
    [InlineData("Asia/Amman", "2021-03-25T21:00:00Z", "2021-03-25", 3600)]
    [InlineData("Asia/Amman", "2021-03-25T22:00:00Z", "2021-03-26", 82800)]
    [InlineData("Pacific/Apia", "2011-12-30T09:30:00Z", "2011-12-29", 1800)]
    [InlineData("Pacific/Apia", "2011-12-30T10:00:00Z", "2011-12-31", 86400)]
    // And the other way, a day .NET begins two hours late: Scoresbysund sprang forward from 00:00 (UTC-1) to 01:00 (UTC)
    // on 26 March 2023, at 01:00 UTC; .NET reads that 01:00 as UTC-2, 03:00 UTC.
    [InlineData("America/Scoresbysund", "2023-03-26T00:30:00Z", "2023-03-25", 1800)]
    [InlineData("America/Scoresbysund", "2023-03-26T01:00:00Z", "2023-03-26", 82800)]
    public void DayAndSecondsToMidnight(string timeZone, string instant, string date, int seconds)
    {
        var day = LocalDay.Of(timeZone, DateTimeOffset.Parse(instant, System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(DateOnly.Parse(date, System.Globalization.CultureInfo.InvariantCulture), day.Date);
        Assert.Equal(seconds, day.SecondsToMidnight);
    }

    [Theory]
    [InlineData("Asia/Kolkata", "2026-04-14T10:30:45Z", 86400)]
    [InlineData("America/New_York", "2026-03-08T12:00:00Z", 82800)]  // springs forward
    [InlineData("America/New_York", "2026-11-01T12:00:00Z", 90000)]  // falls back
    [InlineData("America/New_York", "2026-11-02T12:00:00Z", 86400)]
    [InlineData("America/Havana", "2026-03-08T12:00:00Z", 82800)]    // midnight itself does not exist
    [InlineData("America/Havana", "2026-10-31T12:00:00Z", 86400)]    // ends at the first of two midnights
    [InlineData("America/Havana", "2026-11-01T12:00:00Z", 90000)]    // so the next day has the hour
    [InlineData("Australia/Lord_Howe", "2026-10-04T12:00:00Z", 84600)] // half an hour forward
    [InlineData("Asia/Amman", "2021-03-25T12:00:00Z", 86400)]       // ends at the skipped midnight
    [InlineData("Asia/Amman", "2021-03-26T12:00:00Z", 82800)]       // begins at 01:00
    [InlineData("Pacific/Apia", "2011-12-29T12:00:00Z", 86400)]     // the day before the skipped day
    [InlineData("Asia/Kolkata", "0001-01-01T00:00:00Z", 86400)]     // a time never set: its day began before year 1 in UTC
    [InlineData("America/New_York", "0001-01-01T00:00:00Z", 86400)] // and west of UTC: its day is the calendar's first
    public void TheDaysLengthFollowsItsClockChanges(string timeZone, string instant, int length)
    {
        var day = LocalDay.Of(timeZone, DateTimeOffset.Parse(instant, System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(length, day.LengthSeconds);
    }

    [Theory]
    [InlineData("Asia/Kolkata", true)]
    [InlineData("Asia/Calcutta", true)]     // an IANA alias
    [InlineData("America/Port-au-Prince", true)]
    [InlineData("Etc/GMT+5", true)]
    [InlineData("Asia//Kolkata", false)]    // the host finds the file, and keeps the name as given
    [InlineData("asia/kolkata", false)]     // found case-insensitively only once loaded: accepted or not by chance
    [InlineData("utc", false)]              // the host finds UTC in any case, loaded or not: still not its spelling
    [InlineData("UTC", true)]
    [InlineData("localtime", false)]        // the host's own zone, whatever it is
    [InlineData("posixrules", false)]
    [InlineData("right/Asia/Kolkata", false)]
    [InlineData("India Standard Time", false)]
    public void OnlyExactIanaZoneIdsAreKnown(string id, bool known)
    {
        _ = TwaBot.Api.Configuration.TimeZones.Find("Asia/Kolkata"); // loaded, as the default zone is at start

        Assert.Equal(known, TwaBot.Api.Configuration.TimeZones.IsKnown(id));
    }

    [Fact]
    public void AZoneStoredInAnotherCaseStillCounts()
    {
        // Stored before spellings were checked: every request of the business used to fail with a 500.
        var now = DateTimeOffset.Parse("2026-04-14T11:30:45Z", System.Globalization.CultureInfo.InvariantCulture);

        var day = LocalDay.Of("pacific/chatham", now);

        Assert.Equal(LocalDay.Of("Pacific/Chatham", now), day);
        Assert.Equal(new DateOnly(2026, 4, 15), day.Date); // 00:15:45 at UTC+12:45
    }
}
