namespace TwaBot.Api.Conversations;

/// <summary>
/// Customer keywords that opt out of, or back into, messages from the business. The whole message
/// must be the keyword (any letter case, surrounding spaces and punctuation ignored: "Stop." and "STOP!"
/// are as clear as "STOP"): "stop it" is a conversation.
/// </summary>
public static class OptOutKeywords
{
    private static readonly string[] OptOut = ["STOP", "UNSUBSCRIBE"];
    private static readonly string[] OptIn = ["START", "SUBSCRIBE"];

    /// <summary>
    /// What a keyboard or a habit adds around a word: stops, exclamation and question marks, quotes (full-width
    /// ones and an ellipsis become these in the normalization below).
    /// </summary>
    private static readonly char[] PunctuationAround = ['.', '!', '?', '¡', '¿', ',', ';', ':', '"', '\'', '“', '”', '‘', '’', '。'];

    public static bool IsOptOut(string? text) => Matches(text, OptOut);

    public static bool IsOptIn(string? text) => Matches(text, OptIn);

    /// <summary>
    /// Compared as a reader sees it: full-width letters (ＳＴＯＰ) as plain ones, and invisible characters
    /// (a byte-order mark, a zero-width space a keyboard added) left out.
    /// </summary>
    private static bool Matches(string? text, string[] keywords)
    {
        if (text is null || text.Length > 32)
        {
            return false;
        }

        string normalized;
        try
        {
            normalized = text.Normalize(System.Text.NormalizationForm.FormKC);
        }
        catch (ArgumentException)
        {
            return false; // not valid Unicode (a lone surrogate): no keyword
        }

        var seen = string.Concat(normalized.Where(c => char.GetUnicodeCategory(c) != System.Globalization.UnicodeCategory.Format))
            .Trim().Trim(PunctuationAround).Trim();
        return keywords.Any(k => string.Equals(seen, k, StringComparison.OrdinalIgnoreCase));
    }
}
