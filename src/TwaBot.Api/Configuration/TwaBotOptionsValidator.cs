using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace TwaBot.Api.Configuration;

/// <summary>
/// Start-up validation of <see cref="TwaBotOptions"/>: every failure names the setting as it is
/// written in configuration, so a bad deployment says exactly what to fix.
/// </summary>
internal sealed partial class TwaBotOptionsValidator(IHostEnvironment environment) : IValidateOptions<TwaBotOptions>
{
    public ValidateOptionsResult Validate(string? name, TwaBotOptions options)
    {
        var failures = new List<string>();
        var mode = ServerMode.Resolve(options.Sandbox, environment);

        AtLeastOne(failures, "TwaBot:RateLimits:GlobalPerMinute", options.RateLimits.GlobalPerMinute);
        AtLeastOne(failures, "TwaBot:RateLimits:PerKeyPerMinute", options.RateLimits.PerKeyPerMinute);
        AtLeastOne(failures, "TwaBot:RateLimits:FailedAuthPerMinute", options.RateLimits.FailedAuthPerMinute);
        AtLeastOne(failures, "TwaBot:Plans:Growth:DailyLimit", options.Plans.Growth.DailyLimit);
        AtLeastOne(failures, "TwaBot:Plans:Pro:DailyLimit", options.Plans.Pro.DailyLimit);

        if (!TimeZones.IsKnown(options.DefaultTimeZone))
        {
            failures.Add($"TwaBot:DefaultTimeZone '{options.DefaultTimeZone}' is not an IANA time zone (e.g. Asia/Kolkata).");
        }

        if (!Uri.TryCreate(options.Meta.GraphBaseUrl, UriKind.Absolute, out var graph)
            || (graph.Scheme != Uri.UriSchemeHttps && graph.Scheme != Uri.UriSchemeHttp))
        {
            failures.Add($"TwaBot:Meta:GraphBaseUrl '{options.Meta.GraphBaseUrl}' must be an absolute http(s) URL.");
        }

        if (!GraphVersionPattern().IsMatch(options.Meta.GraphVersion ?? ""))
        {
            failures.Add($"TwaBot:Meta:GraphVersion '{options.Meta.GraphVersion}' must look like v23.0.");
        }

        ValidateResilience(failures, options.Meta.Resilience);

        if (options.Sandbox.StatusDelayMilliseconds is < 0 or > 600_000)
        {
            failures.Add($"TwaBot:Sandbox:StatusDelayMilliseconds must be between 0 and 600000 (got {options.Sandbox.StatusDelayMilliseconds}).");
        }

        if (options.Sandbox.StatusBatchSize is < 1 or > 1000)
        {
            failures.Add($"TwaBot:Sandbox:StatusBatchSize must be between 1 and 1000 (got {options.Sandbox.StatusBatchSize}).");
        }

        if (options.Webhooks.KeepBodiesDays is < 1 or > 3650)
        {
            failures.Add($"TwaBot:Webhooks:KeepBodiesDays must be between 1 and 3650 (got {options.Webhooks.KeepBodiesDays}).");
        }

        if (options.Sandbox.GraphLatencyMilliseconds < 0)
        {
            failures.Add($"TwaBot:Sandbox:GraphLatencyMilliseconds must not be negative (got {options.Sandbox.GraphLatencyMilliseconds}).");
        }

        if (!string.IsNullOrEmpty(options.AdminKey) && options.AdminKey.Length < 16)
        {
            failures.Add("TwaBot:AdminKey must be at least 16 characters long.");
        }

        if (!mode.IsSandbox)
        {
            // A production server never falls into the sandbox by accident, nor runs half-configured.
            var missing = new[]
            {
                (Name: "TwaBot:Meta:AppSecret", Value: options.Meta.AppSecret),
                (Name: "TwaBot:Meta:VerifyToken", Value: options.Meta.VerifyToken),
                (Name: "TwaBot:AdminKey", Value: options.AdminKey),
            }.Where(setting => string.IsNullOrWhiteSpace(setting.Value)).Select(setting => setting.Name).ToList();
            if (missing.Count > 0)
            {
                failures.Add(
                    $"Live mode needs {string.Join(", ", missing)}. Set them (see README, 'Going live'), " +
                    "or set TwaBot:Sandbox:Enabled=true to run the Meta emulator instead.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateResilience(List<string> failures, MetaResilienceOptions resilience)
    {
        const string Section = "TwaBot:Meta:Resilience:";
        if (resilience.AttemptTimeoutSeconds is <= 0 or > 120)
        {
            failures.Add($"{Section}AttemptTimeoutSeconds must be between 0 and 120 (got {resilience.AttemptTimeoutSeconds}).");
        }

        if (resilience.TotalTimeoutSeconds < resilience.AttemptTimeoutSeconds || resilience.TotalTimeoutSeconds > 300)
        {
            failures.Add($"{Section}TotalTimeoutSeconds must be at least AttemptTimeoutSeconds and at most 300 (got {resilience.TotalTimeoutSeconds}).");
        }

        if (resilience.MaxRetries is < 0 or > 5)
        {
            failures.Add($"{Section}MaxRetries must be between 0 and 5 (got {resilience.MaxRetries}).");
        }

        if (resilience.RetryBaseDelayMilliseconds < 0)
        {
            failures.Add($"{Section}RetryBaseDelayMilliseconds must not be negative (got {resilience.RetryBaseDelayMilliseconds}).");
        }

        if (resilience.BreakerFailureRatio is <= 0 or > 1)
        {
            failures.Add($"{Section}BreakerFailureRatio must be above 0 and at most 1 (got {resilience.BreakerFailureRatio}).");
        }

        if (resilience.BreakerMinimumThroughput < 2)
        {
            failures.Add($"{Section}BreakerMinimumThroughput must be at least 2 (got {resilience.BreakerMinimumThroughput}).");
        }

        if (resilience.BreakerSamplingSeconds < 0.5 || resilience.BreakerBreakSeconds < 0.5)
        {
            failures.Add($"{Section}BreakerSamplingSeconds and BreakerBreakSeconds must be at least 0.5.");
        }
    }

    private static void AtLeastOne(List<string> failures, string setting, int value)
    {
        if (value < 1)
        {
            failures.Add($"{setting} must be at least 1 (got {value}).");
        }
    }

    [GeneratedRegex(@"^v\d+\.\d+$")]
    private static partial Regex GraphVersionPattern();
}
