namespace TwaBot.Api.Unicode;

/// <summary>Cutting a text to a length for storing or logging, never through the middle of a character (a surrogate pair).</summary>
public static class TextCut
{
    /// <summary>The first <paramref name="maxLength"/> characters of <paramref name="text"/> (one fewer when that would halve an emoji); the text itself when short enough.</summary>
    public static ReadOnlySpan<char> Prefix(string text, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Length <= maxLength ? text
            : text.AsSpan(0, char.IsHighSurrogate(text[maxLength - 1]) ? maxLength - 1 : maxLength);
    }
}
