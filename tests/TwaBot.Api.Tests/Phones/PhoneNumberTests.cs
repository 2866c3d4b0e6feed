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
    [InlineData("+44 20 7946 0958", "442079460958")]
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
    [InlineData("91 9876#543210")]       // other symbols
    [InlineData("0123456789")]           // leading zero that is not a national Indian mobile
    [InlineData("+")]
    [InlineData("\uff19\uff18\uff17\uff16\uff15\uff14\uff13\uff12\uff11\uff10")] // full-width digits
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
}
