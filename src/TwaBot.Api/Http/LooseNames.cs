namespace TwaBot.Api.Http;

/// <summary>Names as a careless client may write them: case and separators gone, so template_name, templateName and
/// Template-Name are one, and so are /api/v1/send_template and /api/v1/send-template; and a letter or two mistyped
/// (<see cref="Typos"/>: send-templte, Europe/Londn).</summary>
internal static class LooseNames
{
    /// <summary>The most letters a name written nearly right may differ by.</summary>
    public const int MaxTypos = 2;

    public static string Of(string name) => string.Concat(name.Where(char.IsLetterOrDigit)).ToLowerInvariant();

    /// <summary>
    /// The letters <paramref name="written"/> differs from <paramref name="meant"/> by (Levenshtein), or null when more
    /// than the word's length allows: one in five, so a short word is written right or not guessed ("ok" is not "on").
    /// </summary>
    public static int? Typos(string written, string meant)
    {
        var allowed = Math.Min(MaxTypos, meant.Length / 5);
        if (written.Length == 0 || Math.Abs(written.Length - meant.Length) > allowed)
        {
            return null; // also keeps the work small for a scanner's long paths
        }

        var previous = new int[meant.Length + 1];
        var current = new int[meant.Length + 1];
        for (var j = 0; j <= meant.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= written.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= meant.Length; j++)
            {
                var replace = previous[j - 1] + (written[i - 1] == meant[j - 1] ? 0 : 1);
                current[j] = Math.Min(replace, Math.Min(previous[j], current[j - 1]) + 1);
            }

            (previous, current) = (current, previous);
        }

        return previous[meant.Length] <= allowed ? previous[meant.Length] : null;
    }
}
