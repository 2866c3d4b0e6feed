using System.Text.RegularExpressions;
using Serilog.Core;
using Serilog.Events;

namespace TwaBot.Api.Logging;

/// <summary>
/// Last line of defence for secrets in logs: rewrites any log property that carries an API key,
/// an <c>apikey=</c> query value, a bearer token or a Meta access token. Our own log lines never
/// include them; this catches framework lines (ASP.NET's "Request starting … ?apikey=…") too.
/// </summary>
public sealed partial class SecretRedaction : ILogEventEnricher
{
    public const string Redacted = "[redacted]";

    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        List<LogEventProperty>? changed = null;
        foreach (var (name, value) in logEvent.Properties)
        {
            if (value is ScalarValue { Value: string text } && Redact(text) is var redacted && !ReferenceEquals(redacted, text))
            {
                (changed ??= []).Add(new LogEventProperty(name, new ScalarValue(redacted)));
            }
        }

        changed?.ForEach(logEvent.AddOrUpdateProperty);
    }

    /// <summary>Returns <paramref name="text"/> itself when it holds nothing secret.</summary>
    public static string Redact(string text)
    {
        if (!MayHoldSecret(text))
        {
            return text;
        }

        var result = QuerySecret().Replace(text, match => match.Groups["name"].Value + "=" + Redacted);
        result = ApiKey().Replace(result, match => match.Groups["prefix"].Value + Redacted);
        result = Bearer().Replace(result, "Bearer " + Redacted);
        result = MetaToken().Replace(result, Redacted);
        return result == text ? text : result;
    }

    private static bool MayHoldSecret(string text) =>
        text.Contains('=', StringComparison.Ordinal) || text.Contains("twb_", StringComparison.Ordinal)
        || text.Contains("Bearer", StringComparison.OrdinalIgnoreCase) || text.Contains("EAA", StringComparison.Ordinal);

    [GeneratedRegex(@"(?<name>apikey|api_key|access_token|token|hub\.verify_token|key)=[^&\s""]*", RegexOptions.IgnoreCase)]
    private static partial Regex QuerySecret();

    [GeneratedRegex(@"(?<prefix>twb_(?:live|test|admin)_)[A-Za-z0-9]+")]
    private static partial Regex ApiKey();

    [GeneratedRegex(@"Bearer\s+[A-Za-z0-9._~+/=-]+", RegexOptions.IgnoreCase)]
    private static partial Regex Bearer();

    // Meta access tokens start with EAA followed by a long base64-ish run.
    [GeneratedRegex(@"\bEAA[A-Za-z0-9]{20,}")]
    private static partial Regex MetaToken();
}
