using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using TwaBot.Api.Configuration;
using TwaBot.Api.Metrics;

namespace TwaBot.Api.Meta;

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
        services.AddTwaBotMetricsInstruments(); // the client counts its calls
        services.TryAddSingleton(TimeProvider.System); // the server's own clock wins when registered
        services.AddSingleton<MetaTokenRefusals>();
        var meta = services.AddHttpClient<MetaClient>((provider, client) =>
        {
            var resilience = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<TwaBotOptions>>().Value.Meta.Resilience;
            // Above the pipeline's total timeout, so Polly decides, not HttpClient.
            client.Timeout = TimeSpan.FromSeconds(resilience.TotalTimeoutSeconds + 5);
            client.MaxResponseContentBufferSize = MaxAnswerBytes;
        });
        meta.AddResilienceHandler(MetaResilience.PipelineName, (builder, context) => MetaResilience.Configure(builder,
                context.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<TwaBotOptions>>().Value.Meta.Resilience,
                context.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(MetaResilience).FullName!),
                context.ServiceProvider.GetRequiredService<TwaBotMetrics>()))
            .SelectPipelineBy(_ => MetaResilience.PipelineKey); // a breaker per WhatsApp number, not one for all businesses
        meta.AddHttpMessageHandler(() => new AnswerReadInAttempt())
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                // Meta never redirects; a redirect comes from something else at its address, and following it
                // would turn a send into a GET elsewhere, or post the message a second time (307).
                AllowAutoRedirect = false,
                // Of a caller's trace headers, only traceparent goes on to Meta.
                ActivityHeadersPropagator = TraceParentOnlyPropagator.Instance,
            });
        return services;
    }
}

/// <summary>
/// Inside the resilience pipeline, one per attempt: reads the whole answer (at most
/// <see cref="MetaClientExtensions.MaxAnswerBytes"/>) under the attempt's token, so the per-attempt and total
/// timeouts cover the body too. HttpClient would otherwise read it after the pipeline returned.
/// </summary>
internal sealed class AnswerReadInAttempt : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        try
        {
            await response.Content.LoadIntoBufferAsync(MetaClientExtensions.MaxAnswerBytes, cancellationToken);
            return response;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }
}
