using TwaBot.Api.Admin;

namespace TwaBot.Api.Tests.Admin;

/// <summary>The admin endpoints' field rules at their edges: lengths, line breaks, limits and ids.</summary>
public class AdminRulesTests
{
    private static string? Check(string rule, string value, int maxLength) => (rule switch
    {
        "Text" => AdminRules.Text("field", value, maxLength),
        "OptionalText" => AdminRules.OptionalText("field", value, maxLength),
        "Line" => AdminRules.Line("field", value, maxLength),
        _ => AdminRules.OptionalLine("field", value, maxLength),
    })?.Body.Error;

    [Theory]
    [InlineData("Text")]
    [InlineData("OptionalText")]
    [InlineData("Line")]
    [InlineData("OptionalLine")]
    public void EveryTextRuleTakesItsMaximumLengthAndRefusesOneMore(string rule)
    {
        Assert.Null(Check(rule, new string('a', 10), 10));
        Assert.Null(Check(rule, "  " + new string('a', 10) + " ", 10)); // surrounding blanks do not count
        Assert.Equal("field must be at most 10 characters.", Check(rule, new string('a', 11), 10));
    }

    [Theory]
    [InlineData("Asia/Kolkata", null)]
    [InlineData(null, "time_zone cannot be null: give an IANA time zone (e.g. Asia/Kolkata).")]
    [InlineData("Mars/Olympus", "time_zone 'Mars/Olympus' is not an IANA time zone this server's time-zone database holds, spelled exactly (e.g. Asia/Kolkata).")] // named, not called null
    [InlineData("", "time_zone '' is not an IANA time zone this server's time-zone database holds, spelled exactly (e.g. Asia/Kolkata).")]
    public void ATimeZoneIsRefusedForWhatItIs(string? value, string? error)
    {
        Assert.Equal(error, AdminRules.TimeZone(value)?.Body.Error);
    }

    [Theory]
    [InlineData("Text")]
    [InlineData("OptionalText")]
    public void TextMaySpanLinesWithAnyLineBreakAndTabsButNoOtherControlCharacter(string rule)
    {
        Assert.Null(Check(rule, "Hi\nthere", 100));
        Assert.Null(Check(rule, "Hi\r\nthere", 100));
        Assert.Null(Check(rule, "Hi\rthere", 100));
        Assert.Null(Check(rule, "Hi\tthere", 100));
        Assert.Equal("field must not contain control characters other than line breaks and tabs (found U+001B at position 3).", Check(rule, "Hi\u001bthere", 100));
    }

    [Theory]
    [InlineData("Line")]
    [InlineData("OptionalLine")]
    public void ALineNamesTheControlCharacterItHoldsAndWhere(string rule)
    {
        // Invisible in most forms and logs: the answer says which and where, as the sends' do.
        Assert.Equal("field must be one line without control characters (found U+000A at position 6).", Check(rule, "Acme \nStores", 100));
        Assert.Equal("field must be one line without control characters (found U+0000 at position 1).", Check(rule, "\0Acme", 100));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData(1, null)]
    [InlineData(0, "per_minute_limit must be at least 1, or null for the default.")]
    public void ALimitOfOneIsTheSmallest(int? limit, string? error) =>
        Assert.Equal(error, AdminRules.Positive("per_minute_limit", limit)?.Body.Error);

    [Theory]
    [InlineData(-1, "expires_at must be in the future.")]
    [InlineData(0, "expires_at must be in the future.")] // now is not the future
    [InlineData(1, null)]
    public void AnExpiryMustBeLaterThanNow(int seconds, string? error)
    {
        var now = new DateTime(2026, 12, 2, 8, 0, 0, DateTimeKind.Utc);
        Assert.Equal(error, AdminRules.Future("expires_at", now.AddSeconds(seconds), now)?.Body.Error);
    }

    [Theory]
    [InlineData(32, true)]
    [InlineData(33, false)]
    public void MetasIdsTakeUpToThirtyTwoDigits(int digits, bool accepted) =>
        Assert.Equal(accepted, AdminRules.Digits("waba_id", new string('7', digits)) is null);
}
