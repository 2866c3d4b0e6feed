using TwaBot.Api.Conversations;
using TwaBot.Api.Messages;

namespace TwaBot.Api.Tests.Messages;

public class DeliveryStatusRulesTests
{
    [Theory]
    [InlineData("sent", null, true)]
    [InlineData("delivered", "sent", true)]
    [InlineData("read", "delivered", true)]
    [InlineData("read", "sent", true)]
    [InlineData("sent", "delivered", false)]
    [InlineData("delivered", "read", false)]
    [InlineData("failed", "sent", true)]
    [InlineData("failed", "delivered", false)]
    [InlineData("failed", "read", false)]
    [InlineData("delivered", "failed", true)]
    [InlineData("read", "failed", true)]
    [InlineData("sent", "failed", false)]
    [InlineData("sent", "sent", false)]
    [InlineData("played", "read", false)]
    public void StatusesOnlyMoveForward(string incoming, string? current, bool replaces)
    {
        // What StatusReports writes: a status replaces the current one only with a higher rank (status_rank < $rank).
        Assert.Equal(replaces, DeliveryStatuses.Rank(incoming) > DeliveryStatuses.Rank(current));
    }

    [Fact]
    public void AnyOrderOfReportsEndsAtTheHighestRank()
    {
        string[] reports = ["sent", "delivered", "read", "failed"];
        foreach (var order in Permutations(reports))
        {
            string? current = null;
            foreach (var report in order)
            {
                current = DeliveryStatuses.Rank(report) > DeliveryStatuses.Rank(current) ? report : current;
            }

            Assert.Equal("read", current);
        }
    }

    [Theory]
    [InlineData(131026, null, "Message undeliverable — recipient's phone is not on WhatsApp.")]
    [InlineData(131047, "Re-engagement message", "More than 24 hours have passed since the customer last replied; send an approved template instead.")]
    [InlineData(999999, "Strange thing", "Meta reported 'Strange thing' (code 999999) and did not deliver the message.")]
    [InlineData(null, null, "Meta reported an error and did not deliver the message.")]
    [InlineData(999999, "  ", "Meta reported an error (code 999999) and did not deliver the message.")]
    [InlineData(null, " Spam reported\n", "Meta reported 'Spam reported' and did not deliver the message.")]
    public void FailureReasonsAreSentences(int? code, string? title, string expected)
    {
        Assert.Equal(expected, FailureReasons.For(code, title));
    }

    [Theory]
    [InlineData(999999, "Generic user error", " Parameter 'name' is missing. ", "Meta reported 'Generic user error' (code 999999) and did not deliver the message: Parameter 'name' is missing.")]
    [InlineData(999999, "Spam reported", "spam reported.", "Meta reported 'Spam reported' (code 999999) and did not deliver the message.")] // no more than the title
    [InlineData(999999, "Strange thing", " ", "Meta reported 'Strange thing' (code 999999) and did not deliver the message.")]
    [InlineData(131026, "Message undeliverable", "Message Undeliverable.", "Message undeliverable — recipient's phone is not on WhatsApp.")] // a code with its own sentence keeps it
    [InlineData(999999, "Spam reported.", "Spam reported", "Meta reported 'Spam reported.' (code 999999) and did not deliver the message.")] // the title's full stop either
    [InlineData(999999, " Spam reported\n", "Spam reported", "Meta reported 'Spam reported' (code 999999) and did not deliver the message.")] // the title's spaces
    public void MetasDetailsFollowTheTitleOfACodeWithoutItsOwnSentence(int? code, string title, string details, string expected)
    {
        Assert.Equal(expected, FailureReasons.For(code, title, details: details));
    }

    [Theory] // a refused template or OTP is not advised to send a template; other codes keep their sentence
    [InlineData(131047, true, "Meta refused this template under its 24-hour customer service window rule (131047); templates normally work at any time: check the template's status and category in WhatsApp Manager.")]
    [InlineData(131026, true, "Message undeliverable — recipient's phone is not on WhatsApp.")]
    [InlineData(131047, false, "More than 24 hours have passed since the customer last replied; send an approved template instead.")]
    public void ATemplateRefusedUnderTheWindowRuleIsNotAdvisedATemplate(int code, bool template, string expected)
    {
        Assert.Equal(expected, FailureReasons.For(code, "Re-engagement message", template));
    }

    [Theory] // Meta's two marketing refusals ask for different things: 131049 is Meta's hold (try later), 131050 the customer's choice (stop)
    [InlineData(131049, "Meta did not deliver this marketing message to keep engagement healthy; try again after 24 hours.")]
    [InlineData(131050, "The customer has stopped marketing messages from this business.")]
    public void EachMarketingRefusalSaysWhoseChoiceItWas(int code, string expected)
    {
        Assert.Equal(expected, FailureReasons.For(code, "Meta's title"));
    }

    [Fact]
    public void MetasLongDetailsAreCutToWhatAnAnswerCarries()
    {
        var details = string.Concat(Enumerable.Repeat("Parameter 'name' is missing. ", 40)).Trim();

        var reason = FailureReasons.For(999999, "Generic user error", details: details);

        const string reported = "Meta reported 'Generic user error' (code 999999) and did not deliver the message: ";
        Assert.Equal(reported + details[..500], reason);
    }

    [Theory]
    // Meta's codes for a send that failed after it was accepted (meta-cloud-api.md §2), and the refusals a status
    // can also carry: each is explained in its own words, never as the generic "Meta reported …".
    [InlineData(130472)]
    [InlineData(131000)]
    [InlineData(131026)]
    [InlineData(131031)]
    [InlineData(131042)]
    [InlineData(131047)]
    [InlineData(131048)]
    [InlineData(131049)]
    [InlineData(131050)]
    [InlineData(131051)]
    [InlineData(131053)]
    [InlineData(131056)]
    [InlineData(131062)] // a business-scoped user id recipient is refused for this message (dualhook.com, BSUID API changes)
    [InlineData(130429)]
    [InlineData(132000)]
    [InlineData(132001)]
    [InlineData(132015)]
    [InlineData(132016)]
    public void EachKnownFailureCodeHasItsOwnSentence(int code)
    {
        var reason = FailureReasons.For(code, "Meta's title");

        Assert.DoesNotContain("Meta's title", reason, StringComparison.Ordinal);
        Assert.Matches(@"^[A-Z].{20,}\.$", reason);
    }

    [Theory]
    [InlineData("STOP", true, false)]
    [InlineData(" unsubscribe\n", true, false)]
    [InlineData("Start", false, true)]
    [InlineData("SUBSCRIBE", false, true)]
    [InlineData("stop please", false, false)]
    [InlineData("STOPPED", false, false)]
    [InlineData(null, false, false)]
    [InlineData("\uFEFFSTOP", true, false)]          // a byte-order mark a keyboard app put first
    [InlineData("Stop\u200B", true, false)]          // a zero-width space after it
    [InlineData("\uFF33\uFF34\uFF2F\uFF30", true, false)] // full-width ＳＴＯＰ
    [InlineData("\uD835\uDC12\uD835\uDC13\uD835\uDC0E\uD835\uDC0F", true, false)] // mathematical bold, as "fancy text" keyboards write it
    [InlineData("\u00A0start\u00A0", false, true)]   // no-break spaces around it
    [InlineData("S T O P", false, false)]
    [InlineData("\uD800STOP", false, false)]          // not valid Unicode: no keyword, no exception
    [InlineData("Stop.", true, false)]
    [InlineData("Stop. ", true, false)]               // the space a keyboard adds after a full stop
    [InlineData("\u00AB\u00A0Stop\u00A0!\u00A0\u00BB", true, false)] // French spacing: before the ! and inside the guillemets
    [InlineData("STOP ! !", true, false)]
    [InlineData("STOP!!", true, false)]
    [InlineData("STOP\u3002", true, false)]           // a CJK keyboard's full stop
    [InlineData("\u201CUnsubscribe\u201D", true, false)] // in curly quotes
    [InlineData("stop\u2026", true, false)]          // an ellipsis
    [InlineData("\uFF33\uFF34\uFF2F\uFF30\uFF01", true, false)] // full-width ＳＴＯＰ！
    [InlineData("Start!", false, true)]
    [InlineData("S.T.O.P", false, false)]
    [InlineData("stop. thanks", false, false)]
    [InlineData("STOP-", false, false)]
    [InlineData("STOP\u0964", true, false)]           // a Hindi keyboard's full stop (danda)
    [InlineData("Stop\u0965", true, false)]           // a double danda
    [InlineData("\u00AB\u00A0Unsubscribe\u00A0\u00BB", true, false)] // in French guillemets, spaced as French sets them
    [InlineData("\u201EStart\u201C", false, true)]    // in German low and high quotes
    [InlineData("\u300CSTOP\u300D", true, false)]     // in Japanese corner brackets
    [InlineData("STOP\u061F", true, false)]           // an Arabic question mark
    [InlineData("STOP\u06D4", true, false)]           // an Urdu full stop
    [InlineData("\u00ABSTOP\u00BB now", false, false)]
    [InlineData("*STOP*", true, false)]               // WhatsApp's bold: the customer sees a plain STOP
    [InlineData("_start_", false, true)]              // and its italic
    [InlineData("~STOP~", false, false)]              // struck out: not a clear wish
    public void KeywordsMatchTheWholeMessage(string? text, bool optOut, bool optIn)
    {
        Assert.Equal(optOut, OptOutKeywords.IsOptOut(text));
        Assert.Equal(optIn, OptOutKeywords.IsOptIn(text));
    }

    [Theory]
    [InlineData("Stop promotions", true, false)]      // the label of Meta's opt-out button on marketing templates
    [InlineData("STOP PROMOTIONS!", true, false)]
    [InlineData(" stop   promotions\n", true, false)] // spaces between the words, however many
    [InlineData("Resume promotions", false, true)]
    [InlineData("STOP PROMOT\u0130ONS", true, false)]   // a Turkish keyboard's capitals
    [InlineData("stop promotion", false, false)]
    [InlineData("STOP", false, false)]                 // a full opt-out, not a marketing one
    [InlineData("START", false, false)]                // nor is a full opt-in a marketing one
    [InlineData("stop promotions please", false, false)]
    public void MarketingKeywordsMatchTheWholeMessage(string text, bool stop, bool resume)
    {
        Assert.Equal(stop, OptOutKeywords.IsMarketingStop(text));
        Assert.Equal(resume, OptOutKeywords.IsMarketingResume(text));
        Assert.False(OptOutKeywords.IsOptOut(text) && stop); // never both: a marketing stop leaves other messages
        Assert.False(OptOutKeywords.IsOptIn(text) && resume); // nor does resuming marketing lift a full opt-out
    }

    private static IEnumerable<string[]> Permutations(string[] items) => items.Length <= 1
        ? [items]
        : items.SelectMany((item, i) => Permutations([.. items.Take(i), .. items.Skip(i + 1)]).Select(rest => (string[])[item, .. rest]));

    [Theory]
    [InlineData(28, true)]   // "STOP" padded to 32 characters: still a keyword
    [InlineData(29, false)]  // 33 characters: longer than any keyword is written, not read at all
    public void AKeywordMessageIsAtMost32Characters(int padding, bool optOut)
    {
        Assert.Equal(optOut, OptOutKeywords.IsOptOut("STOP" + new string(' ', padding)));
    }

    [Fact]
    public void TextThatIsNotValidUnicodeIsNoKeyword()
    {
        // Built here, not in InlineData: a lone surrogate does not survive the trip through a theory's serialized data.
        var loneSurrogate = new string([(char)0xD800]);

        Assert.False(OptOutKeywords.IsOptOut(loneSurrogate + "STOP"));
        Assert.False(OptOutKeywords.IsOptIn("START" + loneSurrogate));
        Assert.False(OptOutKeywords.IsMarketingStop(loneSurrogate));
    }
}
