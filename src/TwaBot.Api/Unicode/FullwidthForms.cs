namespace TwaBot.Api.Unicode;

/// <summary>
/// The fullwidth forms of ASCII (U+FF01–U+FF5E: ＳＴＯＰ, １２７, ！) as the ASCII characters they stand for, which is what
/// Unicode's compatibility normalization (NFKC) and IDNA make of them. .NET takes both from ICU: without it (globalization-
/// invariant mode, DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 in slim containers) <see cref="string.Normalize()"/> and
/// <see cref="Uri.IdnHost"/> leave them as they are, so the places that read them map them here first: the same result
/// with ICU, and still read without it.
/// </summary>
public static class FullwidthForms
{
    private const char First = '\uFF01';
    private const char Last = '\uFF5E';

    public static string AsAscii(string text) =>
        text.AsSpan().IndexOfAnyInRange(First, Last) < 0 ? text
        : string.Create(text.Length, text, static (chars, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                chars[i] = source[i] is >= First and <= Last ? (char)(source[i] - First + '!') : source[i];
            }
        });
}
