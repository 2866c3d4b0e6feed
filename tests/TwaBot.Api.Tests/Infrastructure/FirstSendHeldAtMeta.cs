using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace TwaBot.Api.Tests.Infrastructure;

/// <summary>
/// A server whose first message sent to Meta waits at Meta's door until the test lets it through, so "a send
/// still under way" is a state the test holds, not a race against a real delay. Later sends go straight on.
/// </summary>
public sealed class FirstSendHeldAtMeta : TwaBotApiFactory
{
    private int _sends;

    /// <summary>Completes when the first send has reached Meta (its row, and so its idempotency key, are stored).</summary>
    public TaskCompletionSource Asked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Waits for the first send to reach Meta; bounded, so a regression fails instead of hanging.</summary>
    public Task UnderWayAsync() => Asked.Task.WaitAsync(TimeSpan.FromSeconds(30));

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(services =>
            services.AddHttpClient<TwaBot.Api.Meta.MetaClient>().AddHttpMessageHandler(() => new Hold(this)));
    }

    private sealed class Hold(FirstSendHeldAtMeta server) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Post && request.RequestUri!.AbsolutePath.EndsWith("/messages", StringComparison.Ordinal)
                && Interlocked.Increment(ref server._sends) == 1)
            {
                server.Asked.TrySetResult();
                await server.Release.Task.WaitAsync(cancellationToken);
            }

            return await base.SendAsync(request, cancellationToken);
        }
    }
}
