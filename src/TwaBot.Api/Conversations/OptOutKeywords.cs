namespace TwaBot.Api.Conversations;

/// <summary>
/// Customer keywords that opt out of, or back into, messages from the business, or its marketing messages
/// only. The whole message must be the keyword (any letter case, surrounding spaces and punctuation ignored:
/// "Stop." and "STOP!" are as clear as "STOP"): "stop it" is a conversation.
/// </summary>
public static class OptOutKeywords
{
    private static readonly string[] OptOut = ["STOP", "UNSUBSCRIBE"];
    private static readonly string[] OptIn = ["START", "SUBSCRIBE"];

    // The label of the opt-out button Meta offers on marketing templates, and its counterpart: marketing only, as the
    // customer's own marketing preference in WhatsApp is.
    private static readonly string[] MarketingStop = ["STOP PROMOTIONS"];
    private static readonly string[] MarketingResume = ["RESUME PROMOTIONS"];

    /// <summary>
    /// What a keyboard or a habit adds around a word: stops, exclamation and question marks, quotes (full-width
    /// ones and an ellipsis become these in the normalization below), in the scripts customers write them in: the
    /// Devanagari danda that Hindi keyboards end a sentence with, Arabic and Urdu marks, and the guillemets,
    /// low quotes and corner brackets that French, German or Japanese quote with; and WhatsApp's bold and italic marks
    /// (*STOP*, _stop_ show the customer a plain word). Not its strike-through: a struck-out STOP is no clear wish.
    /// </summary>
    private static readonly char[] PunctuationAround =
    [
        '.', '!', '?', '¡', '¿', ',', ';', ':', '"', '\'', '“', '”', '‘', '’', '。',
        '\u0964', '\u0965', '\u061F', '\u060C', '\u06D4', '«', '»', '‹', '›', '„', '‚', '「', '」', '『', '』', '*', '_',
        '…', // normalized to "..." with ICU; kept as it is without it (FullwidthForms)
    ];

    public static bool IsOptOut(string? text) => Matches(text, OptOut);

    public static bool IsOptIn(string? text) => Matches(text, OptIn);

    public static bool IsMarketingStop(string? text) => Matches(text, MarketingStop);

    public static bool IsMarketingResume(string? text) => Matches(text, MarketingResume);

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
            // Fullwidth letters first: without ICU, Normalize leaves them (and every other form) as they are.
            normalized = Unicode.FullwidthForms.AsAscii(text).Normalize(System.Text.NormalizationForm.FormKC);
        }
        catch (ArgumentException)
        {
            return false; // not valid Unicode (a lone surrogate): no keyword
        }

        var visible = string.Concat(normalized.Where(c => char.GetUnicodeCategory(c) != System.Globalization.UnicodeCategory.Format).Select(TurkishIAsI));
        // Spaces and punctuation around the words in any mix: French sets a space before "!" and inside guillemets ("« Stop ! »").
        var start = 0;
        var end = visible.Length;
        while (start < end && IsAround(visible[start]))
        {
            start++;
        }

        while (end > start && IsAround(visible[end - 1]))
        {
            end--;
        }

        var seen = string.Join(' ', visible[start..end].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)); // "Stop  promotions" is the two words
        return keywords.Any(k => string.Equals(seen, k, StringComparison.OrdinalIgnoreCase));
    }

    private static bool IsAround(char c) => char.IsWhiteSpace(c) || PunctuationAround.Contains(c);

    /// <summary>
    /// Turkish and Azerbaijani keyboards write the capital of i as İ (U+0130) and have a dotless ı (U+0131):
    /// "UNSUBSCRİBE" in capitals is UNSUBSCRIBE, but no case-insensitive comparison that ignores the culture
    /// says so. The keywords are ASCII, so both are their I here, whatever the server's culture.
    /// </summary>
    private static char TurkishIAsI(char c) => c is '\u0130' or '\u0131' ? 'I' : c;
}
