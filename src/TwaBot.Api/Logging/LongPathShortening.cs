using System.Globalization;
using Serilog.Core;
using Serilog.Events;

namespace TwaBot.Api.Logging;

/// <summary>
/// Cuts a logged request path (the request line's <c>RequestPath</c>, the <c>Path</c> of the error lines) to its first
/// <see cref="MaxLength"/> characters and says how many it left out. Any client, with no key, can send a path as long as
/// the 64 KB request line, as often as it likes (a path no route has answers 404 before any limit counts it); logged
/// whole, each such request wrote its length to the log again, twice over once its control characters were escaped,
/// and a script could fill the disk with log. No path of ours comes near this length. The method is cut the same way
/// (the request line's <c>RequestMethod</c>, the error lines' <c>Method</c>): Kestrel takes any token as a method, as long
/// as the request line, and answers it 404 or 405 like any other.
/// Runs after <see cref="SecretRedaction"/> and <see cref="ControlCharacterEscaping"/>: a secret the cut would split
/// is already taken out, and the bound holds for the text as written.
/// </summary>
public sealed class LongPathShortening : ILogEventEnricher
{
    public const int MaxLength = 1_000;

    private static readonly string[] PathProperties = ["RequestPath", "Path", "RequestMethod", "Method"];

    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        foreach (var name in PathProperties)
        {
            if (logEvent.Properties.TryGetValue(name, out var value) && value is ScalarValue { Value: string { Length: > MaxLength } path })
            {
                logEvent.AddOrUpdateProperty(new LogEventProperty(name, new ScalarValue(Shorten(path))));
            }
        }
    }

    /// <summary><paramref name="path"/> itself when it is no longer than <see cref="MaxLength"/>.</summary>
    public static string Shorten(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length <= MaxLength)
        {
            return path;
        }

        var kept = Unicode.TextCut.Prefix(path, MaxLength);
        return string.Create(CultureInfo.InvariantCulture, $"{kept}… ({path.Length - kept.Length} more characters)");
    }
}
