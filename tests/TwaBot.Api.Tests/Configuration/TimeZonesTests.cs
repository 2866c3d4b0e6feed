using TwaBot.Api.Configuration;

namespace TwaBot.Api.Tests.Configuration;

public class TimeZonesTests
{
    [Theory]
    [InlineData("ASIA/KOLKATA", "Asia/Kolkata")] // case is no typo, however many letters it changes
    [InlineData("america/new_york", "America/New_York")]
    [InlineData("Europe/Londn", "Europe/London")]
    [InlineData("asia/omsk", "Asia/Omsk")] // not Asia/Tomsk, a letter further
    [InlineData("Asia/Tmsk", null)] // Asia/Omsk and Asia/Tomsk a letter away each: neither is guessed
    [InlineData("America/Curacas", null)] // America/Caracas and America/Curacao
    [InlineData("IST", null)]
    [InlineData("Mars/Olympus", null)]
    public void TheZoneMeantIsTheOneNearestWrittenOrNoneWhenTwoAre(string written, string? meant)
    {
        Assert.Equal(meant, TimeZones.Meant(written));
    }
}
