using Microsoft.Extensions.Options;
using TwaBot.Api.Configuration;
using TwaBot.Api.Meta;

namespace TwaBot.Api.Sandbox;

public static class SandboxExtensions
{
    /// <summary>The emulator's services; whether they are used is decided by <see cref="ServerMode"/> at run time.</summary>
    public static IServiceCollection AddSandbox(this IServiceCollection services)
    {
        services.AddSingleton<SelfAddress>();
        services.AddSingleton<SandboxWebhookSender>();
        services.AddHttpClient(SandboxWebhookSender.HttpClientName);
        services.AddSingleton<LiveMetaGraphAddress>();
        services.AddSingleton<SandboxMetaGraphAddress>();
        services.AddSingleton<BenchmarkReferenceConnection>();
        services.AddSingleton<IMetaGraphAddress>(provider => provider.GetRequiredService<ServerMode>().IsSandbox
            ? provider.GetRequiredService<SandboxMetaGraphAddress>()
            : provider.GetRequiredService<LiveMetaGraphAddress>());
        services.AddHostedService<SandboxSeeder>();
        services.AddHostedService<SandboxConsole>();
        return services;
    }

    /// <summary>The emulator's routes exist only in sandbox mode: a live server has no /sandbox at all.</summary>
    public static IEndpointRouteBuilder MapSandbox(this IEndpointRouteBuilder app)
    {
        if (app.ServiceProvider.GetRequiredService<ServerMode>().IsSandbox)
        {
            app.MapSandboxGraph();
            app.MapSandboxInbound();
            if (app.ServiceProvider.GetRequiredService<IOptions<TwaBotOptions>>().Value.Sandbox.BenchmarkReferences)
            {
                app.MapBenchmarkReferences();
            }
        }

        return app;
    }
}
