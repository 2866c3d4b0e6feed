using System.Buffers;
using System.Globalization;
using System.Text;
using Serilog.Core;
using Serilog.Events;

namespace TwaBot.Api.Logging;

/// <summary>
/// Escapes line breaks and other control characters in string log properties (a request path is
/// logged decoded, so <c>%0A</c> in a URL would otherwise start a forged log line). Each becomes
/// <c>\n</c>, <c>\r</c>, <c>\t</c> or <c>\uXXXX</c>, so one event stays one line and the text stays readable.
/// C1 controls are escaped too: U+009B (<c>%C2%9B</c> in a path) is a terminal's CSI, as ESC <c>[</c> is; so are the
/// bidirectional overrides and isolates, which would show a line's text in another order.
/// </summary>
public sealed class ControlCharacterEscaping : ILogEventEnricher
{
    private static readonly SearchValues<char> Controls = SearchValues.Create(
        [.. Enumerable.Range(0, 0x20).Select(c => (char)c), .. Enumerable.Range(0x7f, 0x21).Select(c => (char)c), '\u2028', '\u2029',
            // Bidirectional formatting: they cannot start a line, but can make one read in another order than it was written.
            '\u061c', '\u200e', '\u200f', .. Enumerable.Range(0x202a, 5).Select(c => (char)c), .. Enumerable.Range(0x2066, 4).Select(c => (char)c)]);

    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        List<LogEventProperty>? changed = null;
        foreach (var (name, value) in logEvent.Properties)
        {
            if (value is ScalarValue { Value: string text } && text.AsSpan().ContainsAny(Controls))
            {
                (changed ??= []).Add(new LogEventProperty(name, new ScalarValue(Escape(text))));
            }
        }

        changed?.ForEach(logEvent.AddOrUpdateProperty);
    }

    /// <summary>Returns <paramref name="text"/> itself when it has no control character.</summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.AsSpan().ContainsAny(Controls))
        {
            return text;
        }

        var escaped = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            escaped.Append(c switch
            {
                '\n' => @"\n",
                '\r' => @"\r",
                '\t' => @"\t",
                _ when Controls.Contains(c) => @"\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture),
                _ => c.ToString(),
            });
        }

        return escaped.ToString();
    }
}
