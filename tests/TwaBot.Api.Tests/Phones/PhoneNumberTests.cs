using TwaBot.Api.Phones;

namespace TwaBot.Api.Tests.Phones;

public class PhoneNumberTests
{
    [Theory]
    // Every row of the seed's "Phone Number Format" table.
    [InlineData("9876543210", "919876543210")]
    [InlineData("+91-9876543210", "919876543210")]
    [InlineData("+91 98765 43210", "919876543210")]
    [InlineData("919876543210", "919876543210")]
    [InlineData("+14155551234", "14155551234")]
    // PRODUCT.md §2: dots, parentheses, a leading 00, and a national 0 before an Indian mobile.
    [InlineData("(+91) 98765.43210", "919876543210")]
    [InlineData("0091 98765 43210", "919876543210")]
    [InlineData("09876543210", "919876543210")]
    [InlineData("6123456789", "916123456789")]
    [InlineData("5123456789", "5123456789")]      // 10 digits starting 1-5: not an Indian mobile, so no 91
    [InlineData("+44 20 7946 0958", "442079460958")]
    // A + (or 00) is a country code: the 91 rule is for national numbers, or these would go to India (README).
    [InlineData("+6591234567", "6591234567")]     // Singapore
    [InlineData("+64 21 234 567", "6421234567")]  // New Zealand
    [InlineData("006591234567", "6591234567")]
    [InlineData(" 14155551234 ", "14155551234")]
    [InlineData("12345678", "12345678")]
    [InlineData("123456789012345", "123456789012345")]
    // What clients paste: a trunk "(0)" after a country code, a spreadsheet's ".0", invisible separators, padding.
    [InlineData("+91 (0) 98765 43210", "919876543210")]
    [InlineData("+44 (0)20 7946 0958", "442079460958")]
    [InlineData("0044 (0) 20 7946 0958", "442079460958")]
    [InlineData("+39 (0)6 1234 5678", "390612345678")]     // Italy dials its 0 from abroad too
    [InlineData("9876543210.0", "919876543210")]
    [InlineData("+14155551234.0", "14155551234")]
    [InlineData("+91\u00a098765\u00a043210", "919876543210")]
    [InlineData("\u200b+91 98765 43210\u200e", "919876543210")]
    [InlineData("\ufeff9876543210", "919876543210")]
    [InlineData("+91 98765 43210                              ", "919876543210")]
    [InlineData("9876543210\r\n", "919876543210")]
    // A spreadsheet's ".0" beside invisible characters: a UTF-8 CSV's first cell, a zero-width space, a direction mark.
    [InlineData("\ufeff9876543210.0", "919876543210")]
    [InlineData("\u200b9876543210.0", "919876543210")]
    [InlineData("9876543210.0\u200e", "919876543210")]
    [InlineData("98765 4321.0", "919876543210")]          // a space: written by hand, the ".0" is its last digit
    // Brackets and international prefixes, read as written.
    [InlineData("+1 (415) 555-1234", "14155551234")]      // a bracketed area code after a country code is formatting, not a trunk "(0)"
    [InlineData("+44 (20) 7946 0958", "442079460958")]
    [InlineData("0039 (0)6 1234 5678", "390612345678")]   // Italy keeps its 0 after 0039 as after +39
    [InlineData("009876543210", "9876543210")]            // 00 is an international prefix: country code 98, never given India
    [InlineData("44 (0)20 7946 0958", "4402079460958")]   // no + or 00: nothing says 44 is a country code, so "(0)" is digits (PRODUCT §2)
    [InlineData("91 (0) 98765 43210", "919876543210")]   // but 91 is India's: 9109876543210 is no number there
    [InlineData("91 (0)22 1234 5678", "912212345678")]   // a landline's trunk 0 too, not only a mobile's
    [InlineData("+91 098765 43210", "919876543210")]     // a country picker's +91 before the number as typed, trunk 0 and all
    [InlineData("9109876543210", "919876543210")]
    [InlineData("+91 022 1234 5678", "912212345678")]    // a landline's trunk 0 too, as "91 (0)22 1234 5678"
    [InlineData("+91 98765 432101", "9198765432101")]    // a digit too many is sent as typed (and fails), never as another subscriber's 918765432101
    [InlineData("+91 098765 432101", "91098765432101")]  // with a trunk 0 too: only 13 digits are read as +91 0…, or this would be 9198765432101
    [InlineData("+49 176 12345678", "4917612345678")]    // 13 digits of another country (a German mobile) are no Indian number with a trunk 0
    // Unicode's other hyphens are hyphens: the non-breaking one of web pages, an en dash, a minus sign.
    [InlineData("+91\u201198765\u201143210", "919876543210")]
    [InlineData("98765\u201343210", "919876543210")]
    [InlineData("+1 (415) 555\u22121234", "14155551234")]
    public void NormalizesAcceptedFormats(string input, string expected)
    {
        Assert.True(PhoneNumber.TryNormalize(input, out var normalized));
        Assert.Equal(expected, normalized);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("1234567")]              // 7 digits: too short
    [InlineData("1234567890123456")]     // 16 digits: too long
    [InlineData("98765abc10")]           // letters
    [InlineData("+91+9876543210")]       // a second plus
    [InlineData("++14155551234")]        // a doubled plus is a typo, not a number
    [InlineData("+0044 20 7946 0958")]   // a + and 00 both: the 0 after + is no country code, as "+09876543210"
    [InlineData("98765+43210")]          // a plus after digits names no country code
    [InlineData("91 9876#543210")]       // other symbols
    [InlineData("0123456789")]           // leading zero that is not a national Indian mobile
    [InlineData("+")]
    [InlineData("\uff19\uff18\uff17\uff16\uff15\uff14\uff13\uff12\uff11\uff10")] // full-width digits
    [InlineData("0")]
    [InlineData("0987654321")]           // national 0 before 9 digits: not an Indian mobile
    [InlineData("05123456789")]          // national 0 before 10 digits starting 1-5: not an Indian mobile either
    [InlineData("+09876543210")]         // a 0 after '+' is no country code
    [InlineData("+(0)14155551234")]      // a "(0)" with no country code before it is a leading 0
    public void RejectsWhatIsNotAPhoneNumber(string? input)
    {
        Assert.False(PhoneNumber.TryNormalize(input, out _));
    }

    [Fact]
    public void AnExplicitInternationalPrefixIsNeverGivenIndia()
    {
        // "+9876543210" names country code 98: the 91 rule is for national numbers only.
        Assert.True(PhoneNumber.TryNormalize("+9876543210", out var normalized));
        Assert.Equal("9876543210", normalized);
    }

    [Theory]
    [InlineData(25, true)]   // 40 characters: read
    [InlineData(26, false)]  // 41 characters: refused before it is read
    public void InputLongerThanFortyCharactersIsRefused(int padding, bool accepted)
    {
        var input = "+91 98765 43210" + new string('-', padding);

        Assert.Equal(accepted, PhoneNumber.TryNormalize(input, out var normalized));
        Assert.Equal(accepted ? "919876543210" : "", normalized);
    }

    /// <summary>
    /// Any formatting of a number gives the same digits (reliability-notes §8, property a), from a fixed seed so a
    /// failure replays: groups split anywhere by spaces, hyphens, dots, brackets and the invisible characters
    /// pasted numbers carry, under a + or 00, or as an Indian national number with or without its 0. Not
    /// generated: the two spellings the rules read on purpose as something else, a "(0)" group (a trunk 0) and a
    /// final ".0" (a spreadsheet's decimal).
    /// </summary>
    [Fact]
    public void AnyFormattingOfANumberGivesTheSameDigits()
    {
        var random = new Random(20261202);
        string[] separators = [" ", "-", ".", " ", "​", "‎", " - ", ". "];
        for (var i = 0; i < 2000; i++)
        {
            var (digits, expected, prefix) = random.Next(3) switch
            {
                0 => International(random) is var n ? (n, n, random.Next(2) == 0 ? "+" : "00") : default,
                1 => IndianMobile(random) is var m ? (m, "91" + m, random.Next(2) == 0 ? "" : "0") : default,
                _ => IndianMobile(random) is var m2 ? ("91" + m2, "91" + m2, random.Next(2) == 0 ? "+" : "") : default,
            };
            var formatted = prefix + Formatted(digits, random, separators);

            Assert.True(PhoneNumber.TryNormalize(formatted, out var normalized), $"refused: \"{formatted}\"");
            Assert.Equal(expected, normalized);
        }
    }

    /// <summary>8 to 15 digits, not starting 0: a country code and number.</summary>
    private static string International(Random random) =>
        string.Concat(Enumerable.Range(0, random.Next(8, 16)).Select(i => (char)('0' + (i == 0 ? random.Next(1, 10) : random.Next(10)))));

    private static string IndianMobile(Random random) =>
        string.Concat(Enumerable.Range(0, 10).Select(i => (char)('0' + (i == 0 ? random.Next(6, 10) : random.Next(10)))));

    private static string Formatted(string digits, Random random, string[] separators)
    {
        var text = new System.Text.StringBuilder();
        var at = 0;
        while (at < digits.Length)
        {
            var group = digits.Substring(at, Math.Min(random.Next(1, 6), digits.Length - at));
            at += group.Length;
            var last = at == digits.Length;
            var separator = separators[random.Next(separators.Length)];
            if (last && group == "0" && separator.EndsWith('.'))
            {
                separator = " "; // "….0" at the end is read as a spreadsheet's decimal
            }

            if (text.Length > 0)
            {
                text.Append(separator);
            }

            text.Append(random.Next(6) == 0 && group != "0" ? $"({group})" : group);
        }

        return text.ToString();
    }

    [Theory]
    [InlineData("6591234567", true)]
    [InlineData("+65 9123 4567", true)]
    [InlineData("919876543210", false)]  // 12 digits: already has its country code
    [InlineData("+447911123456", false)]
    [InlineData("5123456789", false)]    // 10 digits, but not a mobile's first digit
    [InlineData(null, false)]
    public void IndianNationalFormIsTenDigitsStartingSixToNine(string? input, bool expected)
    {
        Assert.Equal(expected, PhoneNumber.IsIndianNationalForm(input));
    }
}
