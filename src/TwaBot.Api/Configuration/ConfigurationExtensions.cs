using Microsoft.Extensions.Options;

namespace TwaBot.Api.Configuration;

public static class ConfigurationExtensions
{
    /// <summary>Binds and validates the TwaBot section, and decides sandbox or live mode.</summary>
    public static WebApplicationBuilder AddTwaBotConfiguration(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<TwaBotOptions>()
            .Bind(builder.Configuration.GetSection(TwaBotOptions.SectionName))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<TwaBotOptions>, TwaBotOptionsValidator>();
        builder.Services.AddSingleton(services => ServerMode.Resolve(
            services.GetRequiredService<IOptions<TwaBotOptions>>().Value.Sandbox,
            services.GetRequiredService<IHostEnvironment>()));
        builder.Services.AddSingleton(TimeProvider.System);
        return builder;
    }
}
