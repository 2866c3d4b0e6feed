using Microsoft.Extensions.Options;

namespace TwaBot.Api.Configuration;

public static class ConfigurationExtensions
{
    /// <summary>Binds and validates the TwaBot section, and decides sandbox or live mode.</summary>
    public static WebApplicationBuilder AddTwaBotConfiguration(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddTwaBotOptions(builder.Configuration);
        builder.Services.AddSingleton(TimeProvider.System);
        return builder;
    }

    public static IServiceCollection AddTwaBotOptions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<TwaBotOptions>()
            .Bind(configuration.GetSection(TwaBotOptions.SectionName))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<TwaBotOptions>, TwaBotOptionsValidator>();
        // An edit of appsettings.json the start would refuse leaves the values in force (KeepValidOptionsFactory).
        services.AddSingleton<OptionsFactory<TwaBotOptions>>();
        services.AddSingleton<IOptionsFactory<TwaBotOptions>>(provider => new KeepValidOptionsFactory(
            provider.GetRequiredService<OptionsFactory<TwaBotOptions>>(), configuration,
            provider.GetService<ILogger<KeepValidOptionsFactory>>() ?? (ILogger)Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance));
        services.AddSingleton(provider => ServerMode.Resolve(
            provider.GetRequiredService<IOptions<TwaBotOptions>>().Value.Sandbox,
            provider.GetRequiredService<IHostEnvironment>()));
        return services;
    }
}
