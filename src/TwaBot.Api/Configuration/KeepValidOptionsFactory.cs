using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace TwaBot.Api.Configuration;

/// <summary>
/// The settings read as they are now (the rate limits, the plans' daily limits, the sandbox's status webhooks) follow
/// an edit of appsettings.json under a running server. An edit the start would refuse (a value out of range or
/// unreadable, a name that is no setting) changes nothing: the values in force stay, and an Error names what is wrong,
/// as the start would. Left to the framework, the refused values were thrown at every request that read a limit, so
/// every call to the API answered 500 until the file was mended.
/// </summary>
internal sealed partial class KeepValidOptionsFactory(
    OptionsFactory<TwaBotOptions> inner, IConfiguration configuration, ILogger logger) : IOptionsFactory<TwaBotOptions>
{
    private readonly ConcurrentDictionary<string, TwaBotOptions> _inForce = new(StringComparer.Ordinal);

    public TwaBotOptions Create(string name)
    {
        if (!_inForce.TryGetValue(name, out var inForce))
        {
            // The start's own read: what it refuses stops the server (ConfigurationErrors.Check).
            return _inForce.GetOrAdd(name, inner.Create(name));
        }

        TwaBotOptions? edited = null;
        var problems = ConfigurationErrors.SectionProblems(configuration, () => edited = inner.Create(name));
        if (problems.Count == 0 && edited is not null)
        {
            _inForce[name] = edited;
            return edited;
        }

        LogEditRefused(logger, string.Join(" ", problems));
        return inForce;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The configuration changed under the running server (appsettings.json edited?), but the start would refuse it, so the settings in force stay: {Problems} Mend it (README, 'Configuration')")]
    private static partial void LogEditRefused(ILogger logger, string problems);
}
