namespace TwaBot.Api.Configuration;

/// <summary>
/// The <c>TwaBot</c> configuration section (PRODUCT.md §7). Bound from appsettings.json and
/// environment variables (<c>TwaBot__RateLimits__GlobalPerMinute</c>), validated at start.
/// </summary>
public sealed class TwaBotOptions
{
    public const string SectionName = "TwaBot";

    /// <summary>Key for the admin API (<c>X-Admin-Key</c>). Required in live mode; generated in the sandbox.</summary>
    public string? AdminKey { get; set; }

    /// <summary>
    /// The admin key being replaced, still accepted beside <see cref="AdminKey"/> while scripts move to the new one
    /// (docs/operations.md, Rotating secrets). Every call with it is logged as a warning (at most once a minute).
    /// </summary>
    public string? PreviousAdminKey { get; set; }

    /// <summary>IANA zone given to a business created without one (every business has its own zone, which its daily limits follow).</summary>
    public string DefaultTimeZone { get; set; } = "Asia/Kolkata";

    /// <summary>
    /// Folder of the keys that encrypt Meta access tokens and what an <c>Idempotency-Key</c> keeps in the database; beside
    /// the database file when unset (<c>twabot.db</c> → <c>twabot.keys</c>). Back it up with the database: without it,
    /// stored tokens and kept answers cannot be read.
    /// </summary>
    public string? KeyRingFolder { get; set; }

    public RateLimitOptions RateLimits { get; set; } = new();

    public PlanLimitsOptions Plans { get; set; } = new();

    public MetaOptions Meta { get; set; } = new();

    public SandboxOptions Sandbox { get; set; } = new();

    public WebhookOptions Webhooks { get; set; } = new();
}

public sealed class RateLimitOptions
{
    public int GlobalPerMinute { get; set; } = 120;

    public int PerKeyPerMinute { get; set; } = 60;

    /// <summary>Wrong keys one client address may present per minute before it gets 429s.</summary>
    public int FailedAuthPerMinute { get; set; } = 20;

    /// <summary>OTPs one business may send to one number in any hour (against OTP pumping and bombing); 0 turns the cap off.</summary>
    public int OtpPerRecipientPerHour { get; set; } = 5;
}

public sealed class PlanLimitsOptions
{
    public PlanLimitOptions Growth { get; set; } = new() { DailyLimit = 150 };

    public PlanLimitOptions Pro { get; set; } = new() { DailyLimit = 5000 };
}

public sealed class PlanLimitOptions
{
    public int DailyLimit { get; set; }
}

public sealed class MetaOptions
{
    public string GraphBaseUrl { get; set; } = "https://graph.facebook.com";

    public string GraphVersion { get; set; } = "v23.0";

    /// <summary>Signs and verifies webhooks (<c>X-Hub-Signature-256</c>).</summary>
    public string? AppSecret { get; set; }

    /// <summary>Answers Meta's webhook verification handshake.</summary>
    public string? VerifyToken { get; set; }

    public MetaResilienceOptions Resilience { get; set; } = new();
}

/// <summary>Timeouts, retries and the circuit breaker of calls to Meta (see Meta/MetaResilience.cs).</summary>
public sealed class MetaResilienceOptions
{
    public double AttemptTimeoutSeconds { get; set; } = 8;

    public double TotalTimeoutSeconds { get; set; } = 20;

    public int MaxRetries { get; set; } = 2;

    public int RetryBaseDelayMilliseconds { get; set; } = 500;

    public double BreakerFailureRatio { get; set; } = 0.5;

    public int BreakerMinimumThroughput { get; set; } = 5;

    public double BreakerSamplingSeconds { get; set; } = 30;

    public double BreakerBreakSeconds { get; set; } = 15;
}

public sealed class WebhookOptions
{
    /// <summary>
    /// Days an applied delivery keeps its raw body in <c>webhook_events</c>, for looking into what Meta sent, and a
    /// customer's message its text in <c>inbound_messages</c>; then both are dropped and only the rows (the delivery's
    /// de-duplication key, the message's id, sender, type and time) stay.
    /// </summary>
    public int KeepBodiesDays { get; set; } = 30;
}

public sealed class SandboxOptions
{
    /// <summary>Unset means: on in Development, off elsewhere.</summary>
    public bool? Enabled { get; set; }

    /// <summary>Whether the emulator reports sent → delivered → read after a send.</summary>
    public bool StatusWebhooks { get; set; } = true;

    /// <summary>Delay before each status report (sent, then delivered, then read).</summary>
    public int StatusDelayMilliseconds { get; set; } = 500;

    /// <summary>
    /// At most this many status reports in one webhook POST. Reports that come due while the previous
    /// POST is on its way go together, as Meta batches them under load; 1 posts each on its own.
    /// </summary>
    public int StatusBatchSize { get; set; } = 100;

    /// <summary>How long the emulator takes to answer a send, standing in for Meta's own latency in benchmarks.</summary>
    public int GraphLatencyMilliseconds { get; set; }

    /// <summary>Maps the pass-through and bare-POST routes that bench/TwaBot.Bench measures the server against.</summary>
    public bool BenchmarkReferences { get; set; }
}
