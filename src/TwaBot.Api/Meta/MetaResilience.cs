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
/// Meta's throughput refusals (4, 80007, 130429, or HTTP 429), with backoff and Retry-After.
/// Never a timeout, a 5xx or a dropped response: the send may have gone out. No hedging.</item>
/// <item>The breaker counts only 5xx, timeouts and connection failures (never a business refusal
/// such as 190 or 131047), opens at our volume, and then answers at once.</item>
/// </list>
/// The pipeline keeps the system clock even when the app's <see cref="TimeProvider"/> is replaced
/// (Polly would take that one): its timeouts and backoff are about the real network.
/// </summary>
public static class MetaResilience
{
    public const string PipelineName = "meta";

    public static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> builder, MetaResilienceOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        builder.TimeProvider = TimeProvider.System;
        builder
            .AddTimeout(TimeSpan.FromSeconds(options.TotalTimeoutSeconds))
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(options.RetryBaseDelayMilliseconds),
                MaxDelay = TimeSpan.FromSeconds(options.TotalTimeoutSeconds / 2),
                ShouldHandle = args => IsCertainlyNotProcessed(args.Outcome),
                // Meta's Retry-After, when it sends one, beats our own backoff.
                DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result?.Headers.RetryAfter?.Delta),
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                FailureRatio = options.BreakerFailureRatio,
                MinimumThroughput = options.BreakerMinimumThroughput,
                SamplingDuration = TimeSpan.FromSeconds(options.BreakerSamplingSeconds),
                BreakDuration = TimeSpan.FromSeconds(options.BreakerBreakSeconds),
                ShouldHandle = args => ValueTask.FromResult(IsMetaDown(args.Outcome)),
            })
            .AddTimeout(TimeSpan.FromSeconds(options.AttemptTimeoutSeconds));
    }

    /// <summary>No request bytes reached Meta, or Meta said "too many, try later".</summary>
    internal static async ValueTask<bool> IsCertainlyNotProcessed(Outcome<HttpResponseMessage> outcome)
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

        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            return true;
        }

        if (response.StatusCode != HttpStatusCode.BadRequest)
        {
            return false;
        }

        // Meta sends its throughput refusals as HTTP 400 with the code in the body.
        await response.Content.LoadIntoBufferAsync(MetaClientExtensions.MaxAnswerBytes);
        var body = await response.Content.ReadAsByteArrayAsync();
        return MetaError.TryParse(body, 400) is { IsThrottling: true };
    }

    internal static bool IsMetaDown(Outcome<HttpResponseMessage> outcome) => outcome.Exception switch
    {
        TimeoutRejectedException or HttpRequestException => true,
        null => outcome.Result is { StatusCode: >= HttpStatusCode.InternalServerError },
        _ => false,
    };
}

/// <summary>Registration of the typed client with its pipeline.</summary>
public static class MetaClientExtensions
{
    /// <summary>
    /// The largest answer read from Meta. Its answers are small (a send's is under 1 KB, a page of templates
    /// some hundreds of KB); anything larger is not Meta's and is refused instead of held in memory.
    /// </summary>
    public const int MaxAnswerBytes = 4 * 1024 * 1024;

    public static IServiceCollection AddMetaClient(this IServiceCollection services)
    {
        services.AddHttpClient<MetaClient>((provider, client) =>
            {
                var resilience = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<TwaBotOptions>>().Value.Meta.Resilience;
                // Above the pipeline's total timeout, so Polly decides, not HttpClient.
                client.Timeout = TimeSpan.FromSeconds(resilience.TotalTimeoutSeconds + 5);
                client.MaxResponseContentBufferSize = MaxAnswerBytes;
            })
            .AddResilienceHandler(MetaResilience.PipelineName, (builder, context) => MetaResilience.Configure(builder,
                context.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<TwaBotOptions>>().Value.Meta.Resilience));
        return services;
    }
}
