namespace TwaBot.Api.Phones;

/// <summary>
/// Phone normalization of the public docs ("Phone Number Format") and PRODUCT.md §2: formatting is
/// stripped, Indian national numbers get 91, and the result is 8–15 digits with the country code.
/// Beyond the table, it also reads what real clients paste: invisible separators, Unicode's other hyphens and
/// dashes, "(0)" after a country code (and India's trunk 0 after 91 without brackets), and a spreadsheet's ".0".
/// </summary>
public static class PhoneNumber
{
    private const int MinDigits = 8;
    private const int MaxDigits = 15;

    // Longer input is no phone number however it is formatted; the bound also keeps the digit buffer on the stack small.
    private const int MaxInputLength = 40;

    /// <summary>Returns the digits-only international form, or false when the input is not a phone number.</summary>
    public static bool TryNormalize(string? input, out string normalized)
    {
        normalized = "";
        var text = input.AsSpan().Trim(); // padding from fixed-width columns and a pasted line break
        if (text.IsEmpty || text.Length > MaxInputLength)
        {
            return false;
        }

        text = WithoutDecimalTail(text);
        Span<char> digits = stackalloc char[text.Length];
        var count = 0;
        var international = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsAsciiDigit(c))
            {
                digits[count++] = c;
            }
            else if (c == '+' && count == 0 && !international)
            {
                international = true;
            }
            else if (c == '(' && text[i..].StartsWith("(0)") && count > 0
                && (international || digits[..count].StartsWith("00") || digits[..count] is "91")
                && digits[..count] is not ("39" or "0039"))
            {
                // "+44 (0) 20 …": the national trunk 0, dialled only from inside the country (Italy's 0 is dialled
                // from abroad too). "91 (0) 98765 43210" without a + is India's code too: 910… is no Indian number.
                i += 2;
            }
            else if (!IsSeparator(c))
            {
                return false;
            }
        }

        var number = digits[..count];
        if (!international && number.StartsWith("00"))
        {
            number = number[2..];
            international = true;
        }

        string result;
        if (!international && number.Length == 10 && IsIndianMobileStart(number[0]))
        {
            result = string.Concat("91", number);
        }
        else if (!international && number.Length == 11 && number[0] == '0' && IsIndianMobileStart(number[1]))
        {
            result = string.Concat("91", number[1..]);
        }
        else if (number.Length == 13 && number.StartsWith("910"))
        {
            // "+91 098765 43210": a form's country picker joined to the number as typed, with its trunk 0, as "(0)"
            // above (a landline's too, "+91 022 1234 5678"); 910… is no Indian number, so the 0 is dropped rather than
            // sent to a number that does not exist.
            result = string.Concat("91", number[3..]);
        }
        else
        {
            result = number.ToString();
        }

        if (result.Length is < MinDigits or > MaxDigits || result[0] == '0')
        {
            return false;
        }

        normalized = result;
        return true;
    }

    private static bool IsIndianMobileStart(char digit) => digit is >= '6' and <= '9';

    /// <summary>Whether the digits of <paramref name="input"/> (whatever its formatting) are an Indian national mobile number: 10 digits starting 6–9.</summary>
    public static bool IsIndianNationalForm(string? input)
    {
        var digits = (input ?? "").Where(char.IsAsciiDigit).ToArray();
        return digits.Length == 10 && IsIndianMobileStart(digits[0]);
    }

    /// <summary>
    /// Spaces, hyphens, dots and parentheses (PRODUCT §2), and the invisible characters that come with
    /// pasted numbers: non-breaking and other Unicode spaces, zero-width spaces, direction marks, a BOM.
    /// A hyphen is any of Unicode's: word processors and web pages write the non-breaking hyphen (U+2011)
    /// or an en dash where a person typed '-', and some a minus sign (U+2212); none is ever a digit.
    /// </summary>
    private static bool IsSeparator(char c) =>
        c is '-' or '.' or '(' or ')' or '\u2212' || Unicode.InvisibleCharacters.IsInvisible(c)
        || char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.DashPunctuation;

    /// <summary>
    /// "9876543210.0" is a number that went through a spreadsheet or a float column; read as written,
    /// its ".0" would become a digit and send to another country (98765432100 is an Iranian number).
    /// Invisible format characters around or among the digits (a UTF-8 CSV's byte-order mark, a
    /// zero-width space, a direction mark) do not hide the tail; spaces and other separators do, since
    /// "98765 4321.0" may be written by hand.
    /// </summary>
    private static ReadOnlySpan<char> WithoutDecimalTail(ReadOnlySpan<char> text)
    {
        var dot = text.LastIndexOf(".0");
        if (dot < 1 || text[(dot + 2)..].ContainsAnyExcept(FormatCharacters))
        {
            return text;
        }

        var whole = text[..dot];
        var body = whole.StartsWith("+") ? whole[1..] : whole;
        return body.ContainsAny(AsciiDigits) && !body.ContainsAnyExcept(DigitsAndFormatCharacters) ? whole : text;
    }

    private static readonly System.Buffers.SearchValues<char> AsciiDigits = System.Buffers.SearchValues.Create("0123456789");

    private static readonly string Formats = string.Concat(Enumerable.Range(0, char.MaxValue + 1).Select(c => (char)c)
        .Where(c => char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format));

    private static readonly System.Buffers.SearchValues<char> FormatCharacters = System.Buffers.SearchValues.Create(Formats);

    private static readonly System.Buffers.SearchValues<char> DigitsAndFormatCharacters = System.Buffers.SearchValues.Create("0123456789" + Formats);
}
