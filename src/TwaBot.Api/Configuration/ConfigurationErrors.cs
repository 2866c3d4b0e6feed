using Microsoft.Extensions.Options;

namespace TwaBot.Api.Configuration;

/// <summary>Start-up failures caused by configuration, reported as one readable message.</summary>
public static class ConfigurationErrors
{
    public static bool IsConfigurationError(Exception error) => error switch
    {
        OptionsValidationException => true,
        // The binder's message names the setting: "Failed to convert configuration value at 'TwaBot:…'".
        InvalidOperationException e => e.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal),
        AggregateException e => e.InnerExceptions.All(IsConfigurationError),
        _ => false,
    };

    /// <summary>Binds and validates the options now; returns the readable report of what is wrong, or null.</summary>
    public static string? Check(IServiceProvider services)
    {
        try
        {
            _ = services.GetRequiredService<IOptions<TwaBotOptions>>().Value;
            return null;
        }
        catch (Exception error) when (IsConfigurationError(error))
        {
            return Describe(error);
        }
    }

    /// <summary>True under WebApplicationFactory, whose in-memory server must see start-up failures itself.</summary>
    public static bool IsTestHost(WebApplication app) =>
        app?.Services.GetService<Microsoft.AspNetCore.Hosting.Server.IServer>()?.GetType().Assembly.GetName().Name
            == "Microsoft.AspNetCore.TestHost";

    public static string Describe(Exception error)
    {
        var messages = error switch
        {
            OptionsValidationException e => e.Failures,
            AggregateException e => e.InnerExceptions.Select(Describe),
            _ => [error.Message],
        };
        return "TwaBot server cannot start; fix the configuration:" + Environment.NewLine
            + string.Join(Environment.NewLine, messages.Select(m => "  - " + m));
    }
}
