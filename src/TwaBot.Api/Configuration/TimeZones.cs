namespace TwaBot.Api.Configuration;

/// <summary>IANA time-zone ids (the host's tz database), as businesses and configuration name them.</summary>
public static partial class TimeZones
{
    /// <summary>
    /// A zone by its exact IANA spelling. .NET on Linux finds a zone case-insensitively once it is loaded,
    /// but not from the (case-sensitive) zone files, so "asia/kolkata" would be accepted or not depending on
    /// what the process had loaded, and then fail after a restart. The tz database's own entries that are not
    /// zones (the host's localtime, posixrules, Factory, the posix/ and right/ copies) are refused too.
    /// </summary>
    public static bool IsKnown(string? id) =>
        !string.IsNullOrWhiteSpace(id) && !IsHostFile(id) && IanaSpelling().IsMatch(id)
        && TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) && zone.HasIanaId
        && string.Equals(zone.Id, id, StringComparison.Ordinal);

    /// <summary>
    /// The one zone <paramref name="written"/> nearly spells, for the answer that refuses it: the same but for letter case or
    /// a letter or two (asia/kolkata, America/New York, Europe/Londn); null when none or two are nearest.
    /// </summary>
    public static string? Meant(string written)
    {
        var lowered = written.ToLowerInvariant();
        var nearest = TimeZoneInfo.GetSystemTimeZones().Where(zone => zone.HasIanaId && IsKnown(zone.Id))
            .Select(zone => (zone.Id, Typos: Http.LooseNames.Typos(lowered, zone.Id.ToLowerInvariant())))
            .Where(guess => guess.Typos is not null)
            .GroupBy(guess => guess.Typos).MinBy(group => group.Key)?.ToList();
        return nearest is [var only] ? only.Id : null;
    }

    /// <summary>
    /// The zone of a stored id. Ids stored before spellings were checked may differ from the zone's in case
    /// only; they are matched without case rather than failing every request of the business. An id this host's
    /// tz database lacks (an older name such as Asia/Calcutta where tzdata-legacy is not installed, a database moved
    /// from another host) counts as UTC rather than failing them; each start names such businesses
    /// (<see cref="IsOnThisHost"/>).
    /// </summary>
    public static TimeZoneInfo Find(string id) => FindOnThisHost(id) ?? TimeZoneInfo.Utc;

    /// <summary>Whether <see cref="Find"/> finds the stored id itself, not UTC in its place.</summary>
    public static bool IsOnThisHost(string id) => FindOnThisHost(id) is not null;

    private static TimeZoneInfo? FindOnThisHost(string id) =>
        TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) ? zone
        : TimeZoneInfo.GetSystemTimeZones().FirstOrDefault(z => z.Id.Equals(id, StringComparison.OrdinalIgnoreCase));

    /// <summary>Area/Location names: the host finds "Asia//Kolkata" or "./Asia/Kolkata" too, under the name given.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*\z")]
    private static partial System.Text.RegularExpressions.Regex IanaSpelling();

    private static bool IsHostFile(string id) =>
        id is "localtime" or "posixrules" or "Factory"
        || id.StartsWith("posix/", StringComparison.Ordinal) || id.StartsWith("right/", StringComparison.Ordinal);
}
