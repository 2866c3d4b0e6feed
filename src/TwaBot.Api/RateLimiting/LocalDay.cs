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
        return zone.IsInvalidTime(midnight)
            ? new DateTimeOffset(midnight.AddHours(1), zone.GetUtcOffset(midnight.AddHours(1)))
            : zone.IsAmbiguousTime(midnight)
            ? new DateTimeOffset(midnight, zone.GetAmbiguousTimeOffsets(midnight).Max())
            : new DateTimeOffset(midnight, zone.GetUtcOffset(midnight));
    }
}
