using TwaBot.Api.Configuration;

namespace TwaBot.Api.RateLimiting;

/// <summary>The local calendar day of a time zone, the seconds until it ends, and its length (23 or 25 hours across a DST change).</summary>
public readonly record struct LocalDay(DateOnly Date, int SecondsToMidnight, int LengthSeconds)
{
    public static LocalDay Of(string timeZone, DateTimeOffset now)
    {
        var zone = TimeZones.Find(timeZone);
        var local = TimeZoneInfo.ConvertTime(now, zone);
        var date = DateOnly.FromDateTime(local.DateTime);
        var end = FirstMoment(date.AddDays(1), zone);
        // The calendar's first day (a stored time never set) began before the first instant east of UTC.
        var length = date == DateOnly.MinValue ? 86_400 : (int)(end - FirstMoment(date, zone)).TotalSeconds;
        return new LocalDay(date, Math.Max(1, (int)Math.Ceiling((end - now).TotalSeconds)), length);
    }

    /// <summary>The instant <paramref name="date"/> begins in the zone: a day's sends are those made from its start to the next day's.</summary>
    public static DateTimeOffset Start(string timeZone, DateOnly date) => FirstMoment(date, TimeZones.Find(timeZone));

    /// <summary>The instant a local date begins (its UTC offset may differ from another date's across a DST change).</summary>
    private static DateTimeOffset FirstMoment(DateOnly date, TimeZoneInfo zone)
    {
        var midnight = date.ToDateTime(TimeOnly.MinValue);
        // Midnight may not exist (clocks spring forward over it) or happen twice (Havana and the Azores fall
        // back from 01:00 to 00:00): the day begins at the first moment of its date, so the first midnight.
        var start = zone.IsInvalidTime(midnight)
            ? new DateTimeOffset(midnight.AddHours(1), zone.GetUtcOffset(midnight.AddHours(1)))
            : zone.IsAmbiguousTime(midnight)
            ? new DateTimeOffset(midnight, zone.GetAmbiguousTimeOffsets(midnight).Max())
            : new DateTimeOffset(midnight, zone.GetUtcOffset(midnight));
        // .NET's reading of a local time misplaces some clock changes at midnight by an hour or two (Amman and Damascus
        // until 2022, Asuncion and Coyhaique in 2024; it reads Amman's 00:00 of 25 March 2021 as daylight time an hour
        // before the change, and Scoresbysund's 01:00 of 26 March 2023 as UTC-2, two hours after it), and misses a skip
        // of other than an hour or a skipped day (Apia, 30 December 2011). Its reading of an instant follows the tz
        // database: checked with that, and when wrong, found with it.
        return Begins(start, date, zone) ? start : FirstMomentFromInstants(date, zone);
    }

    /// <summary>Whether the date has begun at <paramref name="instant"/> and not a tick before.</summary>
    private static bool Begins(DateTimeOffset instant, DateOnly date, TimeZoneInfo zone) =>
        DateOf(instant, zone) >= date && DateOf(instant.AddTicks(-1), zone) < date;

    /// <summary>
    /// The first instant whose local date is <paramref name="date"/> or later (a skipped date begins with the next), by halving
    /// whole seconds (the tz database changes clocks on whole seconds) from a day either side of midnight UTC, which no
    /// zone's offset reaches.
    /// </summary>
    private static DateTimeOffset FirstMomentFromInstants(DateOnly date, TimeZoneInfo zone)
    {
        var midnightUtc = new DateTimeOffset(date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var (notYet, begun) = (midnightUtc.AddDays(-1), midnightUtc.AddDays(1));
        while (begun - notYet > TimeSpan.FromSeconds(1))
        {
            var middle = notYet.AddSeconds(Math.Floor((begun - notYet).TotalSeconds / 2));
            (notYet, begun) = DateOf(middle, zone) >= date ? (notYet, middle) : (middle, begun);
        }

        return begun.ToOffset(zone.GetUtcOffset(begun));
    }

    private static DateOnly DateOf(DateTimeOffset instant, TimeZoneInfo zone) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, zone).DateTime);
}
