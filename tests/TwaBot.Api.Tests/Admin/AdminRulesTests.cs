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
    [InlineData("asia/kolkata", "time_zone 'asia/kolkata' is not an IANA time zone as written (spelled exactly, capitals and all): did you mean Asia/Kolkata?")]
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
    [InlineData("Text")]
    [InlineData("OptionalText")]
    [InlineData("Line")]
    [InlineData("OptionalLine")]
    public void ATextTooLongWithAControlCharacterIsToldItsLengthFirst(string rule) =>
        Assert.Equal("field must be at most 10 characters.", Check(rule, "\u001b" + new string('a', 10), 10));

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

    [Theory]
    [InlineData("102290129340398", null)]
    [InlineData(null, "waba_id is required and must be Meta's numeric id.")]
    [InlineData(" ", "waba_id is required and must be Meta's numeric id.")]
    [InlineData("1022901293403a8", "waba_id is required and must be Meta's numeric id.")]
    [InlineData("\u0661\u0660\u0662\u0662", "waba_id is required and must be Meta's numeric id.")] // Arabic-Indic digits are no id of Meta's
    public void AMetaIdIsDigitsOnly(string? value, string? error) =>
        Assert.Equal(error, AdminRules.Digits("waba_id", value)?.Body.Error);

    [Theory]
    [InlineData("Text")]
    [InlineData("Line")]
    public void ARequiredTextIsRefusedBlank(string rule)
    {
        Assert.Equal("field is required.", Check(rule, "  ", 10));
        Assert.Equal("field is required.", Check(rule, null!, 10));
    }

    [Theory]
    [InlineData("OptionalText")]
    [InlineData("OptionalLine")]
    public void AnOptionalTextMayBeAbsent(string rule) => Assert.Null(Check(rule, null!, 10));

    [Theory]
    [InlineData("EAAGm0PX4ZCpsBA", null)]
    [InlineData(" EAAGm0PX4ZCpsBA\n", null)] // padding is trimmed off
    [InlineData(null, "access_token is required.")]
    [InlineData("Bearer EAAGm0PX4ZCpsBA", "access_token is the token alone: leave out the \"Bearer \" before it (the server writes Meta's Authorization header itself).")]
    [InlineData("bearer\tEAAGm0PX4ZCpsBA", "access_token is the token alone: leave out the \"Bearer \" before it (the server writes Meta's Authorization header itself).")]
    [InlineData("BearerEAAGm0PX4ZCpsBA", null)] // a token that happens to start with the word
    [InlineData("EAAGm0 PX4ZCpsBA", "access_token must be the token Meta issued: letters, digits and - . _ ~ + / only.")] // a space where "Bearer " has one
    [InlineData("EAAG m0PX4ZCpsBA", "access_token must be the token Meta issued: letters, digits and - . _ ~ + / only.")]
    public void AnAccessTokenIsTheTokenAlone(string? value, string? error) =>
        Assert.Equal(error, AdminRules.AccessToken(value, 1000)?.Body.Error);

    [Theory]
    [InlineData("Starter", "Starter")]
    [InlineData(" growth ", "Growth")]
    [InlineData("PRO", "Pro")]
    [InlineData("Enterprise", null)]
    [InlineData(null, null)]
    public void APlanIsOneOfThreeInAnyLetterCase(string? value, string? plan)
    {
        Assert.Equal(plan, AdminRules.ParsePlan(value)?.ToString());
        Assert.Equal(plan is null ? "plan must be one of Starter, Growth, Pro." : null, AdminRules.Plan(value)?.Body.Error);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("  ", null)] // a form's empty field is none given
    [InlineData(" Acme ", "Acme")]
    public void AnOptionalTextIsStoredTrimmedOrNotAtAll(string? value, string? stored) =>
        Assert.Equal(stored, AdminRules.Trimmed(value));
}
