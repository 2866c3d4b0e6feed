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
        if (options.RateLimits.OtpPerRecipientPerHour < 0)
        {
            failures.Add($"TwaBot:RateLimits:OtpPerRecipientPerHour must be 0 (no cap) or more (got {options.RateLimits.OtpPerRecipientPerHour}).");
        }

        AtLeastOne(failures, "TwaBot:Plans:Pro:DailyLimit", options.Plans.Pro.DailyLimit);

        if (!TimeZones.IsKnown(options.DefaultTimeZone))
        {
            failures.Add($"TwaBot:DefaultTimeZone '{options.DefaultTimeZone}' is not an IANA time zone (e.g. Asia/Kolkata).");
        }

        ValidateGraphAddress(failures, options.Meta, mode);
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

        if (options.Sandbox.GraphLatencyMilliseconds is < 0 or > 60_000)
        {
            failures.Add($"TwaBot:Sandbox:GraphLatencyMilliseconds must be between 0 and 60000 (got {options.Sandbox.GraphLatencyMilliseconds}).");
        }

        ValidateSecret(failures, "TwaBot:AdminKey", options.AdminKey, inHeader: true);
        ValidatePreviousAdminKey(failures, options);
        ValidateSecret(failures, "TwaBot:Meta:AppSecret", options.Meta.AppSecret);
        // Meta sets no length for the verify token (the operator picks it; it only guards the handshake).
        ValidateSecret(failures, "TwaBot:Meta:VerifyToken", options.Meta.VerifyToken, minimumLength: 1);

        if (!mode.IsSandbox)
        {
            // A production server never falls into the sandbox by accident, nor runs half-configured.
            var missing = new[]
            {
                (Name: "TwaBot:Meta:AppSecret", Value: options.Meta.AppSecret),
                (Name: "TwaBot:Meta:VerifyToken", Value: options.Meta.VerifyToken),
                (Name: "TwaBot:AdminKey", Value: options.AdminKey),
            }.Where(setting => string.IsNullOrWhiteSpace(setting.Value)).Select(setting => setting.Name).ToList();
            if (options.Meta.VerifyToken == Webhooks.WebhooksApi.SandboxVerifyToken)
            {
                failures.Add("TwaBot:Meta:VerifyToken is the sandbox's, which README and Postman show to anyone: choose your own.");
            }

            if (missing.Count > 0)
            {
                failures.Add(
                    $"Live mode needs {string.Join(", ", missing)}. Set them (see README, 'Going live'), " +
                    "or set TwaBot:Sandbox:Enabled=true to run the Meta emulator instead.");
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>
    /// The ranges Polly accepts (timeouts of 10 ms to a day, breaker windows of 0.5 s to a day), narrowed to
    /// what makes sense for one call to Meta; NaN and infinities fail every comparison, so finiteness is
    /// checked first. MetaResilienceTests builds the pipeline at each bound.
    /// </summary>
    private static void ValidateResilience(List<string> failures, MetaResilienceOptions resilience)
    {
        const string Section = "TwaBot:Meta:Resilience:";
        Between(failures, Section + "AttemptTimeoutSeconds", resilience.AttemptTimeoutSeconds, 0.01, 120);
        Between(failures, Section + "TotalTimeoutSeconds", resilience.TotalTimeoutSeconds, 0.01, 300);
        if (resilience.TotalTimeoutSeconds < resilience.AttemptTimeoutSeconds)
        {
            failures.Add($"{Section}TotalTimeoutSeconds must be at least AttemptTimeoutSeconds (got {resilience.TotalTimeoutSeconds} < {resilience.AttemptTimeoutSeconds}).");
        }

        if (resilience.MaxRetries is < 0 or > 5)
        {
            failures.Add($"{Section}MaxRetries must be between 0 and 5 (got {resilience.MaxRetries}).");
        }

        if (resilience.RetryBaseDelayMilliseconds is < 0 or > 60_000)
        {
            failures.Add($"{Section}RetryBaseDelayMilliseconds must be between 0 and 60000 (got {resilience.RetryBaseDelayMilliseconds}).");
        }

        if (!double.IsFinite(resilience.BreakerFailureRatio) || resilience.BreakerFailureRatio is <= 0 or > 1)
        {
            failures.Add($"{Section}BreakerFailureRatio must be above 0 and at most 1 (got {resilience.BreakerFailureRatio}).");
        }

        if (resilience.BreakerMinimumThroughput < 2)
        {
            failures.Add($"{Section}BreakerMinimumThroughput must be at least 2 (got {resilience.BreakerMinimumThroughput}).");
        }

        Between(failures, Section + "BreakerSamplingSeconds", resilience.BreakerSamplingSeconds, 0.5, 86_400);
        Between(failures, Section + "BreakerBreakSeconds", resilience.BreakerBreakSeconds, 0.5, 86_400);
    }

    /// <summary>
    /// Meta's address: absolute http(s), nothing the version path could end up inside (a query, a
    /// fragment), no credentials; in live mode HTTPS unless Meta is on this machine (a proxy or a fake),
    /// since every call carries a business's access token.
    /// </summary>
    private static void ValidateGraphAddress(List<string> failures, MetaOptions meta, ServerMode mode)
    {
        if (!Uri.TryCreate(meta.GraphBaseUrl, UriKind.Absolute, out var graph)
            || (graph.Scheme != Uri.UriSchemeHttps && graph.Scheme != Uri.UriSchemeHttp))
        {
            failures.Add($"TwaBot:Meta:GraphBaseUrl '{meta.GraphBaseUrl}' must be an absolute http(s) URL.");
        }
        else if (graph.Query.Length > 0 || graph.Fragment.Length > 0 || graph.UserInfo.Length > 0)
        {
            failures.Add("TwaBot:Meta:GraphBaseUrl must have no query, fragment or user name: the API version and paths are appended to it.");
        }
        else if (!mode.IsSandbox && graph.Scheme == Uri.UriSchemeHttp && !graph.IsLoopback)
        {
            failures.Add($"TwaBot:Meta:GraphBaseUrl '{meta.GraphBaseUrl}' must use https in live mode: every call carries a business's access token.");
        }

        if (!GraphVersionPattern().IsMatch(meta.GraphVersion ?? ""))
        {
            failures.Add($"TwaBot:Meta:GraphVersion '{meta.GraphVersion}' must look like v23.0.");
        }
    }

    /// <summary>
    /// The previous admin key only makes sense beside a new one: alone, a sandbox would print a generated key that
    /// replaces nothing (and live mode already requires TwaBot:AdminKey); equal to it, the rotation was not made.
    /// </summary>
    private static void ValidatePreviousAdminKey(List<string> failures, TwaBotOptions options)
    {
        if (string.IsNullOrEmpty(options.PreviousAdminKey))
        {
            return;
        }

        ValidateSecret(failures, "TwaBot:PreviousAdminKey", options.PreviousAdminKey, inHeader: true);
        if (string.IsNullOrWhiteSpace(options.AdminKey))
        {
            failures.Add("TwaBot:PreviousAdminKey is the old key of a rotation: set the new one in TwaBot:AdminKey too.");
        }
        else if (options.PreviousAdminKey == options.AdminKey)
        {
            failures.Add("TwaBot:PreviousAdminKey is the same as TwaBot:AdminKey: put the new key in TwaBot:AdminKey and the old one in TwaBot:PreviousAdminKey.");
        }
    }

    /// <summary>
    /// A secret is compared byte for byte with what clients and Meta present, and HTTP trims header values:
    /// whitespace at either end (a secret file's final line break) would make it impossible to match.
    /// README's example values are public, so they are refused as well. One that clients present in a header
    /// (<paramref name="inHeader"/>, X-Admin-Key) must be printable ASCII, which every client can send: .NET's HttpClient,
    /// Python's requests and fetch refuse or mangle other characters in a header, so such a key would work only from clients
    /// that send headers in UTF-8, such as curl.
    /// </summary>
    private static void ValidateSecret(List<string> failures, string setting, string? value, int minimumLength = 16, bool inHeader = false)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        if (value.Trim() != value)
        {
            failures.Add($"{setting} must not begin or end with whitespace or a line break (a secret file's last line break?).");
        }
        else if (value.Length < minimumLength)
        {
            failures.Add($"{setting} must be at least {minimumLength} characters long.");
        }
        else if (inHeader && !value.All(c => c is >= ' ' and <= '~'))
        {
            failures.Add($"{setting} must be printable ASCII (letters, digits, punctuation, spaces): it is sent in a header, where many HTTP clients refuse other characters.");
        }
        else if (ReadmeExampleSecrets.Contains(value))
        {
            failures.Add($"{setting} is README's example value, which anyone can read: choose a random one.");
        }
    }

    private static readonly HashSet<string> ReadmeExampleSecrets =
        ["change-me-to-a-long-random-string", "your-meta-app-secret", "your-webhook-verify-token"];

    private static void Between(List<string> failures, string setting, double value, double least, double most)
    {
        if (!double.IsFinite(value) || value < least || value > most)
        {
            failures.Add($"{setting} must be between {least} and {most} (got {value}).");
        }
    }

    private static void AtLeastOne(List<string> failures, string setting, int value)
    {
        if (value < 1)
        {
            failures.Add($"{setting} must be at least 1 (got {value}).");
        }
    }

    [GeneratedRegex(@"\Av[0-9]+\.[0-9]+\z")]
    private static partial Regex GraphVersionPattern();
}
