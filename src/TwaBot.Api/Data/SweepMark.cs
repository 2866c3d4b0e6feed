namespace TwaBot.Api.Data;

/// <summary>
/// How far a periodic sweep has got, by the sweep's name, so that its first run after a start goes on from there
/// instead of reading through every old row again.
/// </summary>
public sealed class SweepMark
{
    public required string Name { get; set; }

    /// <summary>Everything before this time has been swept.</summary>
    public DateTime DoneBefore { get; set; }
}
