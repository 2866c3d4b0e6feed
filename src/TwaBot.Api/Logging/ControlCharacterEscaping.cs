using System.Buffers;
using System.Globalization;
using System.Text;
using Serilog.Core;
using Serilog.Events;

namespace TwaBot.Api.Logging;

/// <summary>
/// Escapes line breaks and other control characters in string log properties, and in the strings inside lists, objects
/// and dictionaries (a request path is logged decoded, so <c>%0A</c> in a URL would otherwise start a forged log line).
/// Each becomes <c>\n</c>, <c>\r</c>, <c>\t</c> or <c>\uXXXX</c>, so one event stays one line and the text stays readable.
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
            if (Escaped(value) is { } escaped)
            {
                (changed ??= []).Add(new LogEventProperty(name, escaped));
            }
        }

        changed?.ForEach(logEvent.AddOrUpdateProperty);
    }

    /// <summary>
    /// The value with its control characters escaped, down into lists, objects and dictionaries (keys too): none of our
    /// own log calls passes one, but a framework's or a later one could, and the JSON console prints them all. Null when
    /// nothing needs escaping, found without allocating for text, lists and objects, since every event passes here (a
    /// dictionary, which nothing here logs, is read through its interface).
    /// </summary>
    public static LogEventPropertyValue? Escaped(LogEventPropertyValue value) => value switch
    {
        ScalarValue { Value: string text } when text.AsSpan().ContainsAny(Controls) => new ScalarValue(Escape(text)),
        SequenceValue sequence => EscapedSequence(sequence),
        StructureValue structure => EscapedStructure(structure),
        DictionaryValue dictionary => EscapedDictionary(dictionary),
        _ => null,
    };

    private static SequenceValue? EscapedSequence(SequenceValue sequence)
    {
        var elements = sequence.Elements;
        for (var i = 0; i < elements.Count; i++)
        {
            if (Escaped(elements[i]) is not null)
            {
                return new SequenceValue(elements.Select(element => Escaped(element) ?? element));
            }
        }

        return null;
    }

    private static StructureValue? EscapedStructure(StructureValue structure)
    {
        var properties = structure.Properties;
        for (var i = 0; i < properties.Count; i++)
        {
            if (Escaped(properties[i].Value) is not null)
            {
                return new StructureValue(
                    properties.Select(property => Escaped(property.Value) is { } escaped ? new LogEventProperty(property.Name, escaped) : property),
                    structure.TypeTag);
            }
        }

        return null;
    }

    private static DictionaryValue? EscapedDictionary(DictionaryValue dictionary) =>
        dictionary.Elements.Any(entry => Escaped(entry.Key) is not null || Escaped(entry.Value) is not null)
            ? new DictionaryValue(dictionary.Elements.Select(entry => new KeyValuePair<ScalarValue, LogEventPropertyValue>(
                Escaped(entry.Key) as ScalarValue ?? entry.Key, Escaped(entry.Value) ?? entry.Value)))
            : null;

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
