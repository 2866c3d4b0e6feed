using TwaBot.Api.Unicode;

namespace TwaBot.Api.Tests.Unicode;

/// <summary>
/// The mapping itself, at the ends of its range: what NFKC makes of U+FF01–U+FF5E with ICU, and nothing outside it
/// (U+FF00 is unassigned, U+FF5F is a white parenthesis NFKC maps to U+2985, not ASCII).
/// </summary>
public class FullwidthFormsTests
{
    [Theory]
    [InlineData("\uFF01", "!")]                // the first: ！
    [InlineData("\uFF5E", "~")]                // the last: ～
    [InlineData("\uFF10\uFF19\uFF21\uFF3A\uFF41\uFF5A", "09AZaz")]
    [InlineData("\uFF00", "\uFF00")]           // one below the range
    [InlineData("\uFF5F", "\uFF5F")]           // one above it
    [InlineData("x\uFF33\uFF34\uFF2F\uFF30\u2026", "xSTOP\u2026")] // only the fullwidth forms, the rest as written
    public void MapsTheFullwidthFormsOfAsciiAndNothingElse(string text, string expected)
    {
        Assert.Equal(expected, FullwidthForms.AsAscii(text));
    }

    [Fact]
    public void GivesWhatNormalizationGivesWithIcu()
    {
        for (var c = '\uFF01'; c <= '\uFF5E'; c++)
        {
            Assert.Equal(c.ToString().Normalize(System.Text.NormalizationForm.FormKC), FullwidthForms.AsAscii(c.ToString()));
        }
    }
}
