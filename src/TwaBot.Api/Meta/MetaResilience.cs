using System.Diagnostics;
using System.Net;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;
using TwaBot.Api.Configuration;

namespace TwaBot.Api.Meta;

/// <summary>
/// The Meta client's resilience, chosen rule by rule rather than the standard handler (which retries
/// POSTs after timeouts and 5xx, sending a customer the same message twice):
/// total timeout → retry → circuit breaker → per-attempt timeout.
/// <list type="bullet">
/// <item>Retry only what Meta certainly did not process: a connection that never opened, and
/// Meta's throughput refusals (4, 80007, 130429, or an HTTP 429 without another code), with backoff
/// and Retry-After, and only while the wait and one more attempt fit in the total timeout; otherwise
/// the refusal is answered at once (a 429 to the caller), not ended by the total timeout as "no answer".
/// Never a send or a template's creation after a timeout, a 5xx or a dropped response: it may have gone
/// through. A read (a GET: the template list, the WABA's numbers) is retried after those too, since
/// reading twice changes nothing at Meta. No hedging.</item>
/// <item>Each attempt reads the whole answer under its own timeout (<see cref="AnswerReadInAttempt"/>),
/// so a body that trickles in is a timeout too, not a wait as long as the trickle.</item>
/// <item>The breaker counts only 5xx, timeouts and connection failures (never a business refusal
/// such as 190 or 131047), opens at our volume, and then answers at once. There is one per WhatsApp
/// number (<see cref="PipelineKey"/>): a business whose calls fail pauses only its own.</item>
/// </list>
/// The pipeline keeps the system clock even when the app's <see cref="TimeProvider"/> is replaced
/// (Polly would take that one): its timeouts and backoff are about the real network. It reads that clock steadily
/// (<see cref="SteadyClock"/>), so a step of the wall clock neither lengthens nor ends a breaker's pause.
/// </summary>
public static partial class MetaResilience
{
    public const string PipelineName = "meta";

    /// <summary>The pipelines' clock: the system's, read steadily.</summary>
    internal static readonly TimeProvider Clock = new SteadyClock(TimeProvider.System);

    /// <summary>When the call (all its attempts) started, as a <see cref="Stopwatch"/> timestamp; set by the client.</summary>
    public static readonly HttpRequestOptionsKey<long> CallStarted = new("twabot.meta.call-started");

    /// <summary>The business's WhatsApp number (its <c>phone_number_id</c>) the call is made for; set by the client.</summary>
    public static readonly HttpRequestOptionsKey<string> Number = new("twabot.meta.number");

    /// <summary>
    /// Each WhatsApp number has a pipeline of its own, and so a breaker of its own: one business's calls that fail
    /// (a number Meta answers with 5xx, a template list that times out) pause that business's calls only, never
    /// every other business's sends.
    /// </summary>
    public static string PipelineKey(HttpRequestMessage request) =>
        request is not null && request.Options.TryGetValue(Number, out var number) ? number : "";

    public static void Configure(
        ResiliencePipelineBuilder<HttpResponseMessage> builder, MetaResilienceOptions options, ILogger? logger = null, Metrics.TwaBotMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        var log = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        builder.TimeProvider = Clock;
        builder.AddTimeout(TimeSpan.FromSeconds(options.TotalTimeoutSeconds));
        if (options.MaxRetries > 0) // Polly's retry needs at least one attempt; 0 means no retry strategy at all
        {
            builder.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(options.RetryBaseDelayMilliseconds),
                MaxDelay = TimeSpan.FromSeconds(options.TotalTimeoutSeconds / 2),
                ShouldHandle = async args =>
                    (IsFailedRead(args.Context, args.Outcome) || await IsCertainlyNotProcessed(args.Outcome)) && RetryFitsInTime(args, options),
                // Meta's Retry-After, when it sends one, beats our own backoff.
                DelayGenerator = args => ValueTask.FromResult(RetryAfterOf(args.Outcome.Result) is { } wait && wait > TimeSpan.Zero ? wait : (TimeSpan?)null),
            });
        }

        builder
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                FailureRatio = options.BreakerFailureRatio,
                MinimumThroughput = options.BreakerMinimumThroughput,
                SamplingDuration = TimeSpan.FromSeconds(options.BreakerSamplingSeconds),
                BreakDuration = TimeSpan.FromSeconds(options.BreakerBreakSeconds),
                ShouldHandle = args => ValueTask.FromResult(IsMetaDown(args.Outcome)),
                // Polly's own lines are silenced (LoggingExtensions): without these, a paused number showed only as 503s.
                OnOpened = args =>
                {
                    var number = NumberOf(args.Context);
                    LogBreakerOpened(log, number, args.BreakDuration.TotalSeconds);
                    // The metric ends the pause by time: Polly half-opens a breaker only when a call comes after it.
                    metrics?.BreakerOpened(number, args.BreakDuration);
                    return ValueTask.CompletedTask;
                },
                OnClosed = args =>
                {
                    var number = NumberOf(args.Context);
                    LogBreakerClosed(log, number);
                    metrics?.BreakerPauseEnded(number);
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(TimeSpan.FromSeconds(options.AttemptTimeoutSeconds));
    }

    /// <summary>No request bytes reached Meta, or Meta said "too many, try later".</summary>
    private static async ValueTask<bool> IsCertainlyNotProcessed(Outcome<HttpResponseMessage> outcome)
    {
        if (outcome.Exception is HttpRequestException failed)
        {
            return failed.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError
                or HttpRequestError.SecureConnectionError;
        }

        if (outcome.Result is not { } response)
        {
            return false;
        }

        if (response.StatusCode is not (HttpStatusCode.BadRequest or HttpStatusCode.TooManyRequests))
        {
            return false;
        }

        // Meta sends its throughput refusals as HTTP 400 (or 429) with the code in the body; a 429 may also
        // carry a code that must not be retried (131056, one recipient's pair limit; 131048, spam).
        var body = await response.Content.ReadAsByteArrayAsync();
        return MetaError.TryParse(body, (int)response.StatusCode) is { } error
            ? error.IsThrottling
            : response.StatusCode == HttpStatusCode.TooManyRequests;
    }

    /// <summary>
    /// A read (GET) that timed out, broke or met a 5xx: asking again is harmless, and a sync or connect need not fail
    /// for one bad moment at Meta's edge. An answer over the size limit is not asked again: it would be as large.
    /// </summary>
    private static bool IsFailedRead(ResilienceContext context, Outcome<HttpResponseMessage> outcome) =>
        context.GetRequestMessage()?.Method == HttpMethod.Get && outcome.Exception switch
        {
            HttpRequestException { HttpRequestError: HttpRequestError.ConfigurationLimitExceeded } => false,
            _ => IsMetaDown(outcome),
        };

    /// <summary>
    /// Whether the time spent so far, the wait before the next attempt and that attempt's own timeout fit in the
    /// total timeout. When they do not, retrying could only end in the total timeout, which reads as "Meta did
    /// not answer, the message may have gone out", although Meta answered each time that it did not take it.
    /// </summary>
    private static bool RetryFitsInTime(RetryPredicateArguments<HttpResponseMessage> args, MetaResilienceOptions options)
    {
        var wait = RetryAfterOf(args.Outcome.Result)
            ?? TimeSpan.FromMilliseconds(options.RetryBaseDelayMilliseconds * Math.Pow(2, args.AttemptNumber));
        var spent = args.Context.GetRequestMessage()?.Options.TryGetValue(CallStarted, out var started) == true
            ? Stopwatch.GetElapsedTime(started)
            : TimeSpan.Zero;
        return spent + wait + TimeSpan.FromSeconds(options.AttemptTimeoutSeconds) <= TimeSpan.FromSeconds(options.TotalTimeoutSeconds);
    }

    /// <summary>
    /// The longest Retry-After passed on to callers: Meta's throttling waits are seconds to minutes, and a caller obeying
    /// one of years (from whatever answers at Meta's address) would stop sending for good.
    /// </summary>
    public static readonly TimeSpan LongestRetryAfter = TimeSpan.FromHours(1);

    /// <summary>Retry-After as seconds or as a date, at most <see cref="LongestRetryAfter"/>; null when absent.</summary>
    internal static TimeSpan? RetryAfterOf(HttpResponseMessage? response) => response?.Headers.RetryAfter switch
    {
        { Delta: { } delta } => Bounded(delta),
        { Date: { } date } => Bounded(date - DateTimeOffset.UtcNow),
        _ => null,
    };

    private static TimeSpan Bounded(TimeSpan wait) =>
        wait <= TimeSpan.Zero ? TimeSpan.Zero : wait < LongestRetryAfter ? wait : LongestRetryAfter;

    private static bool IsMetaDown(Outcome<HttpResponseMessage> outcome) => outcome.Exception switch
    {
        TimeoutRejectedException or HttpRequestException => true,
        null => outcome.Result is { StatusCode: >= HttpStatusCode.InternalServerError },
        _ => false,
    };

    private static string NumberOf(ResilienceContext context) =>
        context.GetRequestMessage() is { } request ? PipelineKey(request) : "";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Meta has been failing for WhatsApp number {PhoneNumberId}: its calls are paused for {BreakSeconds:0.#} s and its sends answered 503 (circuit breaker open)")]
    private static partial void LogBreakerOpened(ILogger logger, string phoneNumberId, double breakSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Calls to Meta for WhatsApp number {PhoneNumberId} go through again (circuit breaker closed)")]
    private static partial void LogBreakerClosed(ILogger logger, string phoneNumberId);
}
