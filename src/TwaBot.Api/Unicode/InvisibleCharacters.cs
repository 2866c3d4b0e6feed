using System.Globalization;

namespace TwaBot.Api.Unicode;

/// <summary>
/// Characters a reader does not see: spaces of every kind (non-breaking, ideographic, line breaks) and
/// format characters (zero-width spaces, direction marks, a BOM). Pasted and generated text carries them;
/// phones skip them, URLs and texts refuse them where nothing else is there, errors show them escaped.
/// </summary>
public static class InvisibleCharacters
{
    public static bool IsInvisible(char c) => char.IsWhiteSpace(c) || char.GetUnicodeCategory(c) == UnicodeCategory.Format;
}
