using System.Net;
using TwaBot.Api.Configuration;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Configuration;

public class ConfigurationValidationTests
{
    [Theory]
    [InlineData("TwaBot:RateLimits:GlobalPerMinute", "0")]
    [InlineData("TwaBot:RateLimits:PerKeyPerMinute", "-1")]
    [InlineData("TwaBot:RateLimits:PerKeyPerMinute", "lots")]
    [InlineData("TwaBot:Plans:Growth:DailyLimit", "0")]
    [InlineData("TwaBot:Plans:Pro:DailyLimit", "1.5")]
    [InlineData("TwaBot:DefaultTimeZone", "Moon/Tranquility")]
    [InlineData("TwaBot:Meta:GraphBaseUrl", "graph.facebook.com")]
    [InlineData("TwaBot:Meta:GraphBaseUrl", "ftp://graph.facebook.com")]
    [InlineData("TwaBot:Meta:GraphVersion", "23")]
    [InlineData("TwaBot:AdminKey", "short")]
    [InlineData("TwaBot:Sandbox:Enabled", "maybe")]
    public void ABadValueStopsTheServerNamingTheSetting(string setting, string value)
    {
        var error = StartupError(new Dictionary<string, string?> { [setting] = value });

        Assert.True(ConfigurationErrors.IsConfigurationError(error), error.ToString());
        Assert.Contains(setting, ConfigurationErrors.Describe(error), StringComparison.Ordinal);
    }

    [Fact]
    public void ProductionWithoutMetaCredentialsRefusesToStart()
    {
        var error = StartupError(new Dictionary<string, string?>(), environment: "Production");

        var message = ConfigurationErrors.Describe(error);
        Assert.Contains("TwaBot:Meta:AppSecret", message, StringComparison.Ordinal);
        Assert.Contains("TwaBot:Meta:VerifyToken", message, StringComparison.Ordinal);
        Assert.Contains("TwaBot:Sandbox:Enabled=true", message, StringComparison.Ordinal);
    }

    [Fact]
    public void ProductionLiveModeNeedsAnAdminKey()
    {
        var settings = LiveMode.Settings();
        settings["TwaBot:AdminKey"] = "";
        var error = StartupError(settings, environment: "Production");

        Assert.Contains("TwaBot:AdminKey", ConfigurationErrors.Describe(error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProductionRunsTheSandboxOnlyWhenAskedExplicitly()
    {
        await using var factory = new TwaBotApiFactory(
            new Dictionary<string, string?> { ["TwaBot:Sandbox:Enabled"] = "true" }, environment: "Production");
        var (_, client, key) = await factory.CreateTenantAsync();

        var json = await (await client.GetAsync("/api/v1/health")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal("sandbox", json.GetProperty("mode").GetString());
        Assert.StartsWith("twb_test_", key, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DevelopmentRunsTheSandboxWithZeroConfiguration()
    {
        // No admin key, no Meta settings: the server starts and makes its own admin key.
        await using var factory = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:AdminKey"] = "" });
        using var client = factory.CreateAdminClient();

        var health = await client.GetAsync("/api/v1/health");
        var admin = await client.GetAsync("/admin/v1/businesses/1");

        await health.AssertErrorAsync(HttpStatusCode.Unauthorized, "MISSING_API_KEY");
        await admin.AssertErrorAsync(HttpStatusCode.Unauthorized, "ADMIN_UNAUTHORIZED");
    }

    /// <summary>The exception that stopped a server with these settings from starting.</summary>
    private static Exception StartupError(Dictionary<string, string?> settings, string environment = "Development")
    {
        // Not disposed: a host that never started cannot be stopped; its temp file is never created.
        var factory = new TwaBotApiFactory(settings, environment);
        return Assert.ThrowsAny<Exception>(() => factory.CreateClient());
    }
}
