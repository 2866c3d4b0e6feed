using Microsoft.Extensions.Configuration;
using TwaBot.Api.Configuration;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Docs;

/// <summary>
/// The API docs' limits (Rate Limits, and the plans' daily caps) are what a server runs with when nothing sets them:
/// from appsettings.json, and from the code when that file is not in the folder the server starts in. (The tests'
/// servers set their own limits, so no HTTP test sees these.)
/// </summary>
public class ApiDocsLimitsTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void UnsetLimitsAreTheDocs(bool withAppSettings)
    {
        var builder = new ConfigurationBuilder();
        if (withAppSettings)
        {
            builder.AddJsonFile(Repository.PathOf("src/TwaBot.Api/appsettings.json"));
        }

        var options = new TwaBotOptions();
        builder.Build().GetSection(TwaBotOptions.SectionName).Bind(options);

        // 120 a minute over all keys, 60 per key, 150 a day on Growth and 5,000 on Pro.
        Assert.Equal(
            (120, 60, 150, 5000),
            (options.RateLimits.GlobalPerMinute, options.RateLimits.PerKeyPerMinute, options.Plans.Growth.DailyLimit, options.Plans.Pro.DailyLimit));
    }
}
