namespace TwaBot.Api.Phones;

/// <summary>
/// Mobiles of three countries whose WhatsApp id (<c>wa_id</c>) is commonly not the number as written, though both reach
/// the same phone (Meta: a user's ID and number "may not always match"):
/// <list type="bullet">
/// <item>Brazil: many mobiles' wa_id lacks the ninth digit: 55, an area code (11–99), 9, eight digits starting 6–9
/// (a mobile's before the 9 was added; a fixed line's start 2–5 and never gained one) → the same without the 9.</item>
/// <item>Mexico: a mobile's wa_id keeps the 1 that Mexico dropped from mobile numbers in 2019: 52 and ten digits →
/// 521 and the same ten.</item>
/// <item>Argentina: a mobile's wa_id carries the 9 that marks a mobile in international dialling, which many write
/// without: 54 and a ten-digit number whose area code starts 1–3 → 549 and the same ten.</item>
/// </list>
/// Each pair is one phone: a STOP or a message from the wa_id counts for the number, and an OTP cap counts both forms once.
/// </summary>
public static class WaIdForms
{
    /// <summary>The wa_id Meta gives <paramref name="number"/>, written in the other form of such a mobile; null when the number is its own.</summary>
    public static string? WaIdOf(string number)
    {
        if (!IsDigits(number))
        {
            return null;
        }

        return number.Length switch
        {
            13 when IsBrazilianMobileWithNinthDigit(number) => number.Remove(4, 1),
            12 when number.StartsWith("52", StringComparison.Ordinal) && number[2] is >= '2' and <= '9' => number.Insert(2, "1"),
            12 when number.StartsWith("54", StringComparison.Ordinal) && number[2] is >= '1' and <= '3' => number.Insert(2, "9"),
            _ => null,
        };
    }

    /// <summary>The number as commonly written for <paramref name="waId"/>, the wa_id of such a mobile; null for any other wa_id.</summary>
    public static string? WrittenNumberOf(string waId)
    {
        if (!IsDigits(waId))
        {
            return null;
        }

        return waId.Length switch
        {
            12 when waId.StartsWith("55", StringComparison.Ordinal) && waId[2] != '0' && waId[4] >= '6' => waId.Insert(4, "9"),
            13 when waId.StartsWith("521", StringComparison.Ordinal) && waId[3] is >= '2' and <= '9' => waId.Remove(2, 1),
            13 when waId.StartsWith("549", StringComparison.Ordinal) && waId[3] is >= '1' and <= '3' => waId.Remove(2, 1),
            _ => null,
        };
    }

    /// <summary>The other form of the same phone, whichever of the two <paramref name="phone"/> is; null when it has none.</summary>
    public static string? OtherFormOf(string phone) => WaIdOf(phone) ?? WrittenNumberOf(phone);

    /// <summary>
    /// A wa_id's digits, when it is a number written with nothing but digits, a <c>+</c> and separators (spaces, dashes,
    /// brackets): Meta writes digits, and these name the same number. Null for anything else (a business-scoped user id).
    /// </summary>
    public static string? DigitsOf(string waId) =>
        waId.Any(char.IsAsciiDigit) && waId.All(c => char.IsAsciiDigit(c) || c is '+' or ' ' or '-' or '(' or ')')
            ? string.Concat(waId.Where(char.IsAsciiDigit))
            : null;

    private static bool IsBrazilianMobileWithNinthDigit(string number) =>
        number.StartsWith("55", StringComparison.Ordinal) && number[2] != '0' && number[4] == '9' && number[5] >= '6';

    private static bool IsDigits(string text) => text.Length > 0 && text.All(char.IsAsciiDigit);
}
