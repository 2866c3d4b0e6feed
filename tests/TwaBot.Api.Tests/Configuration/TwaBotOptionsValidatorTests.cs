using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Options;
using TwaBot.Api.Configuration;

namespace TwaBot.Api.Tests.Configuration;

/// <summary>
/// The start-up rules of <see cref="TwaBotOptionsValidator"/> without a host, one row per setting and bound: the
/// value refused with the setting's name and why, the value at each bound accepted. ConfigurationValidationTests
/// shows the same refusals through the server's start.
/// </summary>
public class TwaBotOptionsValidatorTests
{
    private const string Key = "0123456789abcdef";
    private const string OtherKey = "fedcba9876543210";

    /// <summary>
    /// Settings are "name=value" as an operator writes them (the sandbox unless a row says otherwise; "Environment=…"
    /// names the host's); the expected failures are separated by " + ", each a part of one message, in order.
    /// </summary>
    [Theory]
    [InlineData("ok")]
    [InlineData("TwaBot:RateLimits:GlobalPerMinute must be at least 1 (got 0).", "TwaBot:RateLimits:GlobalPerMinute=0")]
    [InlineData("ok", "TwaBot:RateLimits:GlobalPerMinute=1")]
    [InlineData("TwaBot:RateLimits:PerKeyPerMinute must be at least 1 (got 0).", "TwaBot:RateLimits:PerKeyPerMinute=0")]
    [InlineData("ok", "TwaBot:RateLimits:PerKeyPerMinute=1")]
    [InlineData("TwaBot:RateLimits:FailedAuthPerMinute must be at least 1 (got -1).", "TwaBot:RateLimits:FailedAuthPerMinute=-1")]
    [InlineData("ok", "TwaBot:RateLimits:FailedAuthPerMinute=1")]
    [InlineData("TwaBot:Plans:Growth:DailyLimit must be at least 1 (got 0).", "TwaBot:Plans:Growth:DailyLimit=0")]
    [InlineData("ok", "TwaBot:Plans:Growth:DailyLimit=1")]
    [InlineData("TwaBot:Plans:Pro:DailyLimit must be at least 1 (got 0).", "TwaBot:Plans:Pro:DailyLimit=0")]
    [InlineData("ok", "TwaBot:Plans:Pro:DailyLimit=1")]
    [InlineData("TwaBot:RateLimits:OtpPerRecipientPerHour must be 0 (no cap) or more (got -1).", "TwaBot:RateLimits:OtpPerRecipientPerHour=-1")]
    [InlineData("ok", "TwaBot:RateLimits:OtpPerRecipientPerHour=0")]
    [InlineData("TwaBot:DefaultTimeZone 'Moon/Tranquility' is not an IANA time zone (e.g. Asia/Kolkata).", "TwaBot:DefaultTimeZone=Moon/Tranquility")]
    [InlineData("ok", "TwaBot:DefaultTimeZone=Europe/Paris")]
    // Meta's address and version.
    [InlineData("TwaBot:Meta:GraphBaseUrl 'graph.facebook.com' must be an absolute http(s) URL.", "TwaBot:Meta:GraphBaseUrl=graph.facebook.com")]
    [InlineData("TwaBot:Meta:GraphBaseUrl 'ftp://graph.facebook.com' must be an absolute http(s) URL.", "TwaBot:Meta:GraphBaseUrl=ftp://graph.facebook.com")]
    [InlineData("TwaBot:Meta:GraphBaseUrl must have no query, fragment or user name", "TwaBot:Meta:GraphBaseUrl=https://graph.facebook.com/?x=1")]
    [InlineData("TwaBot:Meta:GraphBaseUrl must have no query, fragment or user name", "TwaBot:Meta:GraphBaseUrl=https://graph.facebook.com/#top")]
    [InlineData("TwaBot:Meta:GraphBaseUrl must have no query, fragment or user name", "TwaBot:Meta:GraphBaseUrl=https://user@graph.facebook.com")]
    [InlineData("ok", "TwaBot:Meta:GraphBaseUrl=http://graph.example")] // the sandbox carries no real token
    [InlineData("TwaBot:Meta:GraphBaseUrl 'http://graph.example' must use https in live mode", "TwaBot:Meta:GraphBaseUrl=http://graph.example", "TwaBot:Sandbox:Enabled=false", $"TwaBot:AdminKey={Key}", $"TwaBot:Meta:AppSecret={Key}", "TwaBot:Meta:VerifyToken=mine")]
    [InlineData("ok", "TwaBot:Meta:GraphBaseUrl=http://127.0.0.1:9000", "TwaBot:Sandbox:Enabled=false", $"TwaBot:AdminKey={Key}", $"TwaBot:Meta:AppSecret={Key}", "TwaBot:Meta:VerifyToken=mine")]
    [InlineData("ok", "TwaBot:Meta:GraphBaseUrl=https://proxy.example/graph", "TwaBot:Sandbox:Enabled=false", $"TwaBot:AdminKey={Key}", $"TwaBot:Meta:AppSecret={Key}", "TwaBot:Meta:VerifyToken=mine")]
    [InlineData("TwaBot:Meta:GraphVersion '23' must look like v23.0.", "TwaBot:Meta:GraphVersion=23")]
    [InlineData("TwaBot:Meta:GraphVersion 'v23' must look like v23.0.", "TwaBot:Meta:GraphVersion=v23")]
    [InlineData("TwaBot:Meta:GraphVersion 'v23.0.1' must look like v23.0.", "TwaBot:Meta:GraphVersion=v23.0.1")]
    [InlineData("TwaBot:Meta:GraphVersion '' must look like v23.0.", "TwaBot:Meta:GraphVersion=")]
    [InlineData("ok", "TwaBot:Meta:GraphVersion=v9.12")]
    // The calls to Meta: each bound accepted, one step beyond refused.
    [InlineData("TwaBot:Meta:Resilience:AttemptTimeoutSeconds must be between 0.01 and 120 (got 0.009).", "TwaBot:Meta:Resilience:AttemptTimeoutSeconds=0.009")]
    [InlineData("ok", "TwaBot:Meta:Resilience:AttemptTimeoutSeconds=0.01")]
    [InlineData("ok", "TwaBot:Meta:Resilience:AttemptTimeoutSeconds=120", "TwaBot:Meta:Resilience:TotalTimeoutSeconds=300")]
    [InlineData("TwaBot:Meta:Resilience:AttemptTimeoutSeconds must be between 0.01 and 120 (got 120.5).", "TwaBot:Meta:Resilience:AttemptTimeoutSeconds=120.5", "TwaBot:Meta:Resilience:TotalTimeoutSeconds=300")]
    [InlineData("TwaBot:Meta:Resilience:AttemptTimeoutSeconds must be between 0.01 and 120 (got NaN).", "TwaBot:Meta:Resilience:AttemptTimeoutSeconds=NaN")]
    [InlineData("TwaBot:Meta:Resilience:TotalTimeoutSeconds must be between 0.01 and 300 (got 300.5).", "TwaBot:Meta:Resilience:TotalTimeoutSeconds=300.5")]
    [InlineData("ok", "TwaBot:Meta:Resilience:TotalTimeoutSeconds=300")]
    [InlineData("ok", "TwaBot:Meta:Resilience:TotalTimeoutSeconds=0.01", "TwaBot:Meta:Resilience:AttemptTimeoutSeconds=0.01")]
    [InlineData("TwaBot:Meta:Resilience:TotalTimeoutSeconds must be between 0.01 and 300 (got 0.001) + TotalTimeoutSeconds must be at least AttemptTimeoutSeconds (got 0.001 < 0.01)", "TwaBot:Meta:Resilience:TotalTimeoutSeconds=0.001", "TwaBot:Meta:Resilience:AttemptTimeoutSeconds=0.01")]
    [InlineData("TwaBot:Meta:Resilience:TotalTimeoutSeconds must be at least AttemptTimeoutSeconds (got 5 < 8).", "TwaBot:Meta:Resilience:TotalTimeoutSeconds=5")]
    [InlineData("ok", "TwaBot:Meta:Resilience:TotalTimeoutSeconds=8")] // one attempt and no time for a retry, but no contradiction
    [InlineData("TwaBot:Meta:Resilience:MaxRetries must be between 0 and 5 (got -1).", "TwaBot:Meta:Resilience:MaxRetries=-1")]
    [InlineData("ok", "TwaBot:Meta:Resilience:MaxRetries=0")]
    [InlineData("ok", "TwaBot:Meta:Resilience:MaxRetries=5")]
    [InlineData("TwaBot:Meta:Resilience:MaxRetries must be between 0 and 5 (got 6).", "TwaBot:Meta:Resilience:MaxRetries=6")]
    [InlineData("TwaBot:Meta:Resilience:RetryBaseDelayMilliseconds must be between 0 and 60000 (got -1).", "TwaBot:Meta:Resilience:RetryBaseDelayMilliseconds=-1")]
    [InlineData("ok", "TwaBot:Meta:Resilience:RetryBaseDelayMilliseconds=0")]
    [InlineData("ok", "TwaBot:Meta:Resilience:RetryBaseDelayMilliseconds=60000")]
    [InlineData("TwaBot:Meta:Resilience:RetryBaseDelayMilliseconds must be between 0 and 60000 (got 60001).", "TwaBot:Meta:Resilience:RetryBaseDelayMilliseconds=60001")]
    [InlineData("TwaBot:Meta:Resilience:BreakerFailureRatio must be above 0 and at most 1 (got 0).", "TwaBot:Meta:Resilience:BreakerFailureRatio=0")]
    [InlineData("ok", "TwaBot:Meta:Resilience:BreakerFailureRatio=0.001")]
    [InlineData("ok", "TwaBot:Meta:Resilience:BreakerFailureRatio=1")]
    [InlineData("TwaBot:Meta:Resilience:BreakerFailureRatio must be above 0 and at most 1 (got 1.001).", "TwaBot:Meta:Resilience:BreakerFailureRatio=1.001")]
    [InlineData("TwaBot:Meta:Resilience:BreakerFailureRatio must be above 0 and at most 1 (got NaN).", "TwaBot:Meta:Resilience:BreakerFailureRatio=NaN")]
    [InlineData("TwaBot:Meta:Resilience:BreakerMinimumThroughput must be at least 2 (got 1).", "TwaBot:Meta:Resilience:BreakerMinimumThroughput=1")]
    [InlineData("ok", "TwaBot:Meta:Resilience:BreakerMinimumThroughput=2")]
    [InlineData("TwaBot:Meta:Resilience:BreakerSamplingSeconds must be between 0.5 and 86400 (got 0.49).", "TwaBot:Meta:Resilience:BreakerSamplingSeconds=0.49")]
    [InlineData("ok", "TwaBot:Meta:Resilience:BreakerSamplingSeconds=0.5")]
    [InlineData("ok", "TwaBot:Meta:Resilience:BreakerSamplingSeconds=86400")]
    [InlineData("TwaBot:Meta:Resilience:BreakerSamplingSeconds must be between 0.5 and 86400 (got 86400.5).", "TwaBot:Meta:Resilience:BreakerSamplingSeconds=86400.5")]
    [InlineData("TwaBot:Meta:Resilience:BreakerBreakSeconds must be between 0.5 and 86400 (got 0.49).", "TwaBot:Meta:Resilience:BreakerBreakSeconds=0.49")]
    [InlineData("ok", "TwaBot:Meta:Resilience:BreakerBreakSeconds=0.5")]
    [InlineData("ok", "TwaBot:Meta:Resilience:BreakerBreakSeconds=86400")]
    [InlineData("TwaBot:Meta:Resilience:BreakerBreakSeconds must be between 0.5 and 86400 (got ", "TwaBot:Meta:Resilience:BreakerBreakSeconds=Infinity")]
    // The sandbox and webhooks.
    [InlineData("TwaBot:Sandbox:StatusDelayMilliseconds must be between 0 and 600000 (got -1).", "TwaBot:Sandbox:StatusDelayMilliseconds=-1")]
    [InlineData("ok", "TwaBot:Sandbox:StatusDelayMilliseconds=0")]
    [InlineData("ok", "TwaBot:Sandbox:StatusDelayMilliseconds=600000")]
    [InlineData("TwaBot:Sandbox:StatusDelayMilliseconds must be between 0 and 600000 (got 600001).", "TwaBot:Sandbox:StatusDelayMilliseconds=600001")]
    [InlineData("TwaBot:Sandbox:StatusBatchSize must be between 1 and 1000 (got 0).", "TwaBot:Sandbox:StatusBatchSize=0")]
    [InlineData("ok", "TwaBot:Sandbox:StatusBatchSize=1")]
    [InlineData("ok", "TwaBot:Sandbox:StatusBatchSize=1000")]
    [InlineData("TwaBot:Sandbox:StatusBatchSize must be between 1 and 1000 (got 1001).", "TwaBot:Sandbox:StatusBatchSize=1001")]
    [InlineData("TwaBot:Webhooks:KeepBodiesDays must be between 1 and 3650 (got 0).", "TwaBot:Webhooks:KeepBodiesDays=0")]
    [InlineData("ok", "TwaBot:Webhooks:KeepBodiesDays=1")]
    [InlineData("ok", "TwaBot:Webhooks:KeepBodiesDays=3650")]
    [InlineData("TwaBot:Webhooks:KeepBodiesDays must be between 1 and 3650 (got 3651).", "TwaBot:Webhooks:KeepBodiesDays=3651")]
    [InlineData("TwaBot:Sandbox:GraphLatencyMilliseconds must be between 0 and 60000 (got -1).", "TwaBot:Sandbox:GraphLatencyMilliseconds=-1")]
    [InlineData("ok", "TwaBot:Sandbox:GraphLatencyMilliseconds=0")]
    [InlineData("ok", "TwaBot:Sandbox:GraphLatencyMilliseconds=60000")]
    [InlineData("TwaBot:Sandbox:GraphLatencyMilliseconds must be between 0 and 60000 (got 60001).", "TwaBot:Sandbox:GraphLatencyMilliseconds=60001")]
    // Secrets: no whitespace at the ends, long enough, not README's.
    [InlineData("TwaBot:AdminKey must not begin or end with whitespace", $"TwaBot:AdminKey={Key}\n")]
    [InlineData("TwaBot:AdminKey must not begin or end with whitespace", $"TwaBot:AdminKey= {Key}")]
    [InlineData("TwaBot:AdminKey must be at least 16 characters long.", "TwaBot:AdminKey=0123456789abcde")]
    [InlineData("ok", $"TwaBot:AdminKey={Key}")]
    [InlineData("ok", "TwaBot:AdminKey=")] // the sandbox makes its own
    [InlineData("TwaBot:AdminKey is README's example value", "TwaBot:AdminKey=change-me-to-a-long-random-string")]
    // Sent in a header: printable ASCII only (inner spaces and punctuation are fine), not so the other secrets.
    [InlineData("TwaBot:AdminKey must be printable ASCII (letters, digits, punctuation, spaces): it is sent in a header", "TwaBot:AdminKey=clé-de-l'administrateur-2026")]
    [InlineData("TwaBot:AdminKey must be printable ASCII", "TwaBot:AdminKey=0123456789\u0001abcdef")]
    [InlineData("TwaBot:AdminKey must be printable ASCII", "TwaBot:AdminKey=0123456789\tabcdef")]
    [InlineData("ok", "TwaBot:AdminKey=correct horse battery staple ~!@#$%^&*()")]
    [InlineData("TwaBot:PreviousAdminKey must be printable ASCII", $"TwaBot:AdminKey={Key}", "TwaBot:PreviousAdminKey=ancienne-clé-0123456789")]
    [InlineData("ok", "TwaBot:Meta:AppSecret=clé-secrète-0123456789")] // an HMAC key, never sent
    [InlineData("ok", "TwaBot:Meta:VerifyToken=jeton-vérifié")] // a query value, percent-encoded by Meta
    [InlineData("TwaBot:Meta:AppSecret must be at least 16 characters long.", "TwaBot:Meta:AppSecret=0123456789abcde")]
    [InlineData("TwaBot:Meta:AppSecret is README's example value", "TwaBot:Meta:AppSecret=your-meta-app-secret")]
    [InlineData("ok", $"TwaBot:Meta:AppSecret={Key}")]
    [InlineData("ok", "TwaBot:Meta:VerifyToken=v")] // Meta sets no length for it
    [InlineData("TwaBot:Meta:VerifyToken must not begin or end with whitespace", "TwaBot:Meta:VerifyToken=v ")]
    [InlineData("TwaBot:Meta:VerifyToken is README's example value", "TwaBot:Meta:VerifyToken=your-webhook-verify-token")]
    // The previous admin key of a rotation.
    [InlineData("ok", $"TwaBot:AdminKey={Key}", $"TwaBot:PreviousAdminKey={OtherKey}")]
    [InlineData("ok", $"TwaBot:AdminKey={Key}", "TwaBot:PreviousAdminKey=")]
    [InlineData("TwaBot:PreviousAdminKey is the old key of a rotation: set the new one in TwaBot:AdminKey too.", $"TwaBot:PreviousAdminKey={OtherKey}")]
    [InlineData("TwaBot:PreviousAdminKey is the same as TwaBot:AdminKey", $"TwaBot:AdminKey={Key}", $"TwaBot:PreviousAdminKey={Key}")]
    [InlineData("TwaBot:PreviousAdminKey must not begin or end with whitespace", $"TwaBot:AdminKey={Key}", "TwaBot:PreviousAdminKey= ")]
    [InlineData("TwaBot:PreviousAdminKey must be at least 16 characters long.", $"TwaBot:AdminKey={Key}", "TwaBot:PreviousAdminKey=short")]
    [InlineData("TwaBot:AdminKey must not begin or end with whitespace + TwaBot:PreviousAdminKey is the old key of a rotation", "TwaBot:AdminKey= ", $"TwaBot:PreviousAdminKey={OtherKey}")]
    // Live mode: Meta's secrets and the admin key, none of them the sandbox's.
    [InlineData("ok", "TwaBot:Sandbox:Enabled=false", $"TwaBot:AdminKey={Key}", $"TwaBot:Meta:AppSecret={Key}", "TwaBot:Meta:VerifyToken=mine")]
    [InlineData("Live mode needs TwaBot:Meta:AppSecret, TwaBot:Meta:VerifyToken, TwaBot:AdminKey. Set them (see README, 'Going live'), or set TwaBot:Sandbox:Enabled=true", "TwaBot:Sandbox:Enabled=false")]
    [InlineData("Live mode needs TwaBot:Meta:AppSecret, TwaBot:Meta:VerifyToken, TwaBot:AdminKey.", "Environment=Production")]
    [InlineData("ok", "Environment=Development")] // the sandbox by default
    [InlineData("TwaBot:AdminKey must not begin or end with whitespace + Live mode needs TwaBot:AdminKey.", "TwaBot:Sandbox:Enabled=false", "TwaBot:AdminKey= ", $"TwaBot:Meta:AppSecret={Key}", "TwaBot:Meta:VerifyToken=mine")]
    [InlineData("Live mode needs TwaBot:Meta:VerifyToken.", "TwaBot:Sandbox:Enabled=false", $"TwaBot:AdminKey={Key}", $"TwaBot:Meta:AppSecret={Key}")]
    [InlineData("TwaBot:Meta:VerifyToken is the sandbox's, which README and Postman show to anyone", "TwaBot:Sandbox:Enabled=false", $"TwaBot:AdminKey={Key}", $"TwaBot:Meta:AppSecret={Key}", "TwaBot:Meta:VerifyToken=twabot-sandbox-verify-token")]
    [InlineData("ok", "TwaBot:Meta:VerifyToken=twabot-sandbox-verify-token")]
    public void EachSettingIsRefusedBeyondItsBoundsNamingItAndWhy(string expected, params string[] settings)
    {
        var result = Validate(settings);

        var parts = expected == "ok" ? [] : expected.Split(" + ");
        var failures = result.Failures?.ToList() ?? [];
        Assert.Equal(parts.Length == 0, result.Succeeded);
        Assert.Equal(parts.Length, failures.Count);
        Assert.All(parts.Zip(failures), pair => Assert.Contains(pair.First, pair.Second, StringComparison.Ordinal));
    }

    [Fact]
    public void AGraphVersionLeftOutInCodeIsRefusedLikeAnEmptyOne()
    {
        var options = new TwaBotOptions { Sandbox = { Enabled = true }, Meta = { GraphVersion = null! } };

        var result = new TwaBotOptionsValidator(new HostingEnvironment { EnvironmentName = "Production" }).Validate(null, options);

        Assert.Equal(["TwaBot:Meta:GraphVersion '' must look like v23.0."], result.Failures);
    }

    /// <summary>Binds the settings as the server does and validates them.</summary>
    private static ValidateOptionsResult Validate(string[] settings)
    {
        var pairs = settings.Select(setting => setting.Split('=', 2)).ToDictionary(pair => pair[0], pair => (string?)pair[1]);
        if (!pairs.Remove("Environment", out var environment))
        {
            environment = "Production";
            pairs.TryAdd("TwaBot:Sandbox:Enabled", "true");
        }

        var options = new ConfigurationBuilder().AddInMemoryCollection(pairs).Build().GetSection(TwaBotOptions.SectionName).Get<TwaBotOptions>() ?? new TwaBotOptions();
        return new TwaBotOptionsValidator(new HostingEnvironment { EnvironmentName = environment! }).Validate(null, options);
    }
}
