namespace TwaBot.Api.Phones;

/// <summary>
/// Phone normalization of the public docs ("Phone Number Format") and PRODUCT.md §2: formatting is
/// stripped, Indian national numbers get 91, and the result is 8–15 digits with the country code.
/// </summary>
public static class PhoneNumber
{
    private const int MinDigits = 8;
    private const int MaxDigits = 15;

    /// <summary>Returns the digits-only international form, or false when the input is not a phone number.</summary>
    public static bool TryNormalize(string? input, out string normalized)
    {
        normalized = "";
        if (string.IsNullOrWhiteSpace(input) || input.Length > 40)
        {
            return false;
        }

        Span<char> digits = stackalloc char[input.Length];
        var count = 0;
        var international = false;
        foreach (var c in input.Trim())
        {
            if (char.IsAsciiDigit(c))
            {
                digits[count++] = c;
            }
            else if (c == '+' && count == 0 && !international)
            {
                international = true;
            }
            else if (c is not (' ' or '-' or '.' or '(' or ')'))
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
}
