using System.Globalization;
using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Serilog.Events;
using TwaBot.Api.Errors;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Configuration;

/// <summary>
/// appsettings.json edited under a running server: the limits follow a sound edit at once, and an edit the start
/// would refuse changes nothing (it once made every request that read a limit answer 500).
/// </summary>
public class ConfigurationEditedWhileRunningTests
{
    [Theory]
    [InlineData("TwaBot:RateLimits:GlobalPerMinute", "0", "TwaBot:RateLimits:GlobalPerMinute must be at least 1 (got 0).")]
    [InlineData("TwaBot:RateLimits:PerKeyPerMinute", "lots", "TwaBot:RateLimits:PerKeyPerMinute must be a whole number, such as 60 (got 'lots').")]
    [InlineData("TwaBot:RateLimits:PerKeyPerMinut", "1", "TwaBot:RateLimits:PerKeyPerMinut is not a setting")]
    public async Task AnEditTheStartWouldRefuseKeepsTheLimitsInForceAndIsLoggedAsAnError(string setting, string value, string named)
    {
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:RateLimits:PerKeyPerMinute"] = "2" });
        var tenant = await server.CreateTenantAsync();

        Edit(server, (setting, value));

        Assert.Equal(HttpStatusCode.OK, (await tenant.Client.GetAsync("/api/v1/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await tenant.Client.GetAsync("/api/v1/health")).StatusCode);
        await (await tenant.Client.GetAsync("/api/v1/health")).AssertErrorAsync(HttpStatusCode.TooManyRequests, ErrorCodes.RateLimited);
        Assert.Contains(server.Logs.Events, e => e.Level == LogEventLevel.Error
            && e.RenderMessage(CultureInfo.InvariantCulture).Contains(named, StringComparison.Ordinal)
            && e.RenderMessage(CultureInfo.InvariantCulture).Contains("the settings in force stay", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnEditMendedAfterARefusedOneAppliesAtOnce()
    {
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:RateLimits:PerKeyPerMinute"] = "5" });
        var tenant = await server.CreateTenantAsync();
        Edit(server, ("TwaBot:RateLimits:GlobalPerMinute", "0"));
        Assert.Equal(HttpStatusCode.OK, (await tenant.Client.GetAsync("/api/v1/health")).StatusCode);

        Edit(server, ("TwaBot:RateLimits:GlobalPerMinute", "1000000"), ("TwaBot:RateLimits:PerKeyPerMinute", "1"));

        var refused = await (await tenant.Client.GetAsync("/api/v1/health")).AssertErrorAsync(HttpStatusCode.TooManyRequests, ErrorCodes.RateLimited);
        Assert.True(refused.GetProperty("retry_after_seconds").GetInt32() > 0);
    }

    private static void Edit(TwaBotApiFactory server, params (string Setting, string Value)[] edits)
    {
        var configuration = (IConfigurationRoot)server.Services.GetRequiredService<IConfiguration>();
        foreach (var (setting, value) in edits)
        {
            configuration[setting] = value;
        }

        configuration.Reload();
    }
}
