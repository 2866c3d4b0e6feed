using System.Text.RegularExpressions;
using Serilog.Core;
using Serilog.Events;

namespace TwaBot.Api.Logging;

/// <summary>
/// Last line of defence for secrets in logs: rewrites any log property that carries an API key,
/// an <c>apikey=</c> query value, a bearer token or a Meta access token, however deep in a list or
/// structure it sits, and every value of a property named after a secret header (the HTTP client's
/// header logging gives <c>Authorization</c> and <c>X-Hub-Signature-256</c> as lists). Our own log
/// lines never include them; this catches framework lines (ASP.NET's "Request starting … ?apikey=…") too.
/// The configured secrets (<paramref name="configuredSecrets"/>: the admin key, the app secret, the verify token) have no shape a
/// pattern could know, so they are taken out wherever their text appears (a key pasted into a path), as written or escaped.
/// </summary>
public sealed partial class SecretRedaction(IEnumerable<string?>? configuredSecrets = null) : ILogEventEnricher
{
    public const string Redacted = "[redacted]";

    /// <summary>
    /// Shorter values are not looked for: the settings validated as secrets are at least this long, and a short
    /// value would take ordinary words out of every line.
    /// </summary>
    private const int MinConfiguredSecretLength = 16;

    private readonly string[] _configuredSecrets = [.. (configuredSecrets ?? [])
        .Where(secret => secret is { Length: >= MinConfiguredSecretLength }).SelectMany(secret => WrittenForms(secret!)).Distinct(StringComparer.Ordinal)];

    private static readonly HashSet<string> SecretHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Authorization", "Proxy-Authorization", "X-API-Key", "X-Admin-Key", "X-Hub-Signature-256", "X-Hub-Signature", "Cookie", "Set-Cookie",
    };

    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        List<LogEventProperty>? changed = null;
        foreach (var (name, value) in logEvent.Properties)
        {
            if (Redact(name, value) is { } redacted)
            {
                (changed ??= []).Add(new LogEventProperty(name, redacted));
            }
        }

        changed?.ForEach(logEvent.AddOrUpdateProperty);
    }

    /// <summary>The value with its secrets taken out, or null when it holds none.</summary>
    private LogEventPropertyValue? Redact(string? name, LogEventPropertyValue value)
    {
        var secretName = name is not null && SecretHeaders.Contains(name);
        switch (value)
        {
            case ScalarValue { Value: string text }:
                var redacted = secretName ? Redacted : RedactConfigured(Redact(text));
                return ReferenceEquals(redacted, text) || redacted == text ? null : new ScalarValue(redacted);
            case SequenceValue sequence:
                var elements = sequence.Elements.Select(element => Redact(name, element)).ToList();
                return elements.TrueForAll(element => element is null) ? null
                    : new SequenceValue(elements.Select((element, i) => element ?? sequence.Elements[i]));
            case StructureValue structure:
                var properties = structure.Properties.Select(property => Redact(property.Name, property.Value)).ToList();
                return properties.TrueForAll(property => property is null) ? null
                    : new StructureValue(structure.Properties.Select((property, i) => new LogEventProperty(property.Name, properties[i] ?? property.Value)), structure.TypeTag);
            case DictionaryValue dictionary:
                var entries = dictionary.Elements.Select(entry => (entry.Key, Value: Redact(entry.Key.Value as string, entry.Value))).ToList();
                return entries.TrueForAll(entry => entry.Value is null) ? null
                    : new DictionaryValue(entries.Select(entry => new KeyValuePair<ScalarValue, LogEventPropertyValue>(entry.Key, entry.Value ?? dictionary.Elements[entry.Key])));
            default:
                return null;
        }
    }

    /// <summary>Returns <paramref name="text"/> itself when it holds nothing secret.</summary>
    public static string Redact(string text)
    {
        if (!MayHoldSecret(text))
        {
            return text;
        }

        var result = QueryPair().Replace(text, RedactPair);
        result = ApiKey().Replace(result, match => match.Groups["prefix"].Value + Redacted);
        result = Bearer().Replace(result, "Bearer " + Redacted);
        result = MetaToken().Replace(result, Redacted);
        return result == text ? text : result;
    }

    /// <summary>
    /// <paramref name="text"/> without secrets of any shape, the configured ones too (for texts that are no log property: span tags);
    /// returns <paramref name="text"/> itself when it holds none.
    /// </summary>
    public string RedactText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var redacted = RedactConfigured(Redact(text));
        return redacted == text ? text : redacted;
    }

    private string RedactConfigured(string text)
    {
        foreach (var secret in _configuredSecrets)
        {
            if (text.Contains(secret, StringComparison.Ordinal))
            {
                text = text.Replace(secret, Redacted, StringComparison.Ordinal);
            }
        }

        return text;
    }

    /// <summary>
    /// A configured secret as a URL may carry it: as it is; percent-escaped (a query, a call's URL), in either letter case
    /// of the escapes; and as a request's path is logged and traced, decoded but for <c>%2F</c> (a key holding <c>/</c>).
    /// </summary>
    private static IEnumerable<string> WrittenForms(string secret)
    {
        var escaped = Uri.EscapeDataString(secret);
        return [secret, escaped, PercentEscape().Replace(escaped, escape => escape.Value.ToLowerInvariant()),
            secret.Replace("/", "%2F", StringComparison.Ordinal), secret.Replace("/", "%2f", StringComparison.Ordinal)];
    }

    private static string RedactPair(Match pair)
    {
        var name = pair.Groups["name"].Value;
        var value = pair.Groups["value"].Value;
        if (IsSecretName(name))
        {
            return name + "=" + Redacted;
        }

        // Any value may hold pairs of its own: a quoted path's query, a return URL's (next=/cb?password=…). A quoted one's are
        // read between its quotes, which stay as written.
        var quotes = value.Length > 1 && value[0] is '"' or '\'' && value[^1] == value[0] ? 1 : 0;
        return name + "=" + value[..quotes] + QueryPair().Replace(value[quotes..^quotes], RedactPair) + value[^quotes..];
    }

    private static bool MayHoldSecret(string text) =>
        text.Contains('=', StringComparison.Ordinal) || text.Contains("twb", StringComparison.Ordinal)
        || text.Contains("Bearer", StringComparison.OrdinalIgnoreCase) || text.Contains("EAA", StringComparison.Ordinal);

    /// <summary>
    /// A parameter's name, as the server reads it: percent-escapes decoded (<c>api%6Bey</c> is <c>apikey</c>),
    /// any case. Anything ending in key, token, secret or password counts: apikey, api_key, access_token,
    /// hub.verify_token, X-API-Key.
    /// </summary>
    private static bool IsSecretName(string name)
    {
        string decoded;
        try
        {
            decoded = Uri.UnescapeDataString(name.Replace('+', ' '));
        }
        catch (UriFormatException)
        {
            decoded = name;
        }

        decoded = decoded.Trim();
        return SecretNameEndings.Any(ending => decoded.EndsWith(ending, StringComparison.OrdinalIgnoreCase));
    }

    private static readonly string[] SecretNameEndings = ["key", "token", "secret", "password"];

    // A value in double or single quotes is taken whole, to its closing quote (password="hunter 2", password='hunter 2'), past
    // any quote escaped with a backslash; else it ends at a double quote, as in a quoted path.
    [GeneratedRegex(@"(?<name>[^\s&?=#;""'<>]+)=(?<value>""(?:[^""\\]|\\.)*""?|'(?:[^'\\]|\\.)*'?|[^&\s""#]*)")]
    private static partial Regex QueryPair();

    // The underscores percent-escaped too (twb%5Ftest%5F…): a query string is recorded in spans as the client wrote it.
    [GeneratedRegex(@"(?<prefix>twb(?:_|%5[Ff])(?:live|test|admin)(?:_|%5[Ff]))[A-Za-z0-9]+")]
    private static partial Regex ApiKey();

    [GeneratedRegex("%[0-9A-F]{2}")]
    private static partial Regex PercentEscape();

    [GeneratedRegex(@"Bearer\s+[A-Za-z0-9._~+/=-]+", RegexOptions.IgnoreCase)]
    private static partial Regex Bearer();

    // Meta access tokens start with EAA followed by a long base64-ish run.
    [GeneratedRegex(@"\bEAA[A-Za-z0-9]{20,}")]
    private static partial Regex MetaToken();
}
