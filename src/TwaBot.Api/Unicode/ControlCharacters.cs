using System.Buffers;
using System.Globalization;

namespace TwaBot.Api.Unicode;

/// <summary>
/// The control characters texts refuse (they come from broken client encoding, never from a person's text, and show
/// as nothing or as boxes), and how a refusal names the one it found: invisible in most forms and logs, it is named
/// by its code point and place.
/// </summary>
public static class ControlCharacters
{
    /// <summary>Every control character but line breaks and tabs (NUL, escape, vertical tab, form feed, …): for texts that may span lines.</summary>
    public static readonly SearchValues<char> BesideLineBreaks = SearchValues.Create(
        Enumerable.Range(0, 160).Select(c => (char)c).Where(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t')).ToArray());

    /// <summary>Every control character, line breaks and tabs too.</summary>
    public static readonly SearchValues<char> All = SearchValues.Create(
        Enumerable.Range(0, 160).Select(c => (char)c).Where(char.IsControl).ToArray());

    /// <summary>Every control character and Unicode's line and paragraph separators: for one-line texts such as a file's name.</summary>
    public static readonly SearchValues<char> AllAndLineSeparators = SearchValues.Create(
        [.. Enumerable.Range(0, 160).Select(c => (char)c).Where(char.IsControl), '\u2028', '\u2029']);

    /// <summary>
    /// The text on one line: each control character, line break or Unicode line separator (broken encoding, or a sender
    /// playing with terminals and logs) as a space, so a text kept for display cannot break the line it is shown on.
    /// </summary>
    public static string AsSpaces(string text) =>
        text.AsSpan().IndexOfAny(AllAndLineSeparators) < 0 ? text
            : string.Create(text.Length, text, (line, source) =>
            {
                for (var i = 0; i < source.Length; i++)
                {
                    line[i] = AllAndLineSeparators.Contains(source[i]) ? ' ' : source[i];
                }
            });

    /// <summary>"found U+001B at position 3": the character at <paramref name="index"/>, counted from one (any refused character, a direction override too).</summary>
    public static string Found(string value, int index) =>
        string.Create(CultureInfo.InvariantCulture, $"found U+{(int)value[index]:X4} at position {index + 1}");
}
