using System.Text.Json;
using TwaBot.Api.Admin;

namespace TwaBot.Api.Tests.Admin;

/// <summary>
/// An admin template create's buttons without a server: which are refused (field and reason), what Meta is sent,
/// and what a send then gives each. TemplateButtonsTests covers the same rules through HTTP.
/// </summary>
public class TemplateButtonRulesTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private static readonly string TenQuickReplies = "[" + string.Join(',', Enumerable.Range(1, 10).Select(i => $$"""{"type":"QUICK_REPLY","text":"R{{i}}"}""")) + "]";

    [Theory]
    [InlineData("MARKETING", null, "ok")]
    [InlineData("AUTHENTICATION", """[]""", "buttons: not allowed for an AUTHENTICATION")]
    [InlineData("MARKETING", """[]""", "ok")]
    [InlineData("MARKETING", "ten quick replies", "ok")]
    [InlineData("MARKETING", "eleven quick replies", "buttons: at most 10 buttons")]
    [InlineData("MARKETING", """[null]""", "buttons[0]: buttons[0] must be an object")]
    [InlineData("MARKETING", """[{"text":"Go"}]""", "buttons[0].type: must be one of")]
    [InlineData("MARKETING", """[{"type":"FLOW","text":"Go"}]""", "buttons[0].type: must be one of")]
    [InlineData("MARKETING", """[{"type":" quick_reply ","text":"Yes"}]""", "ok")]
    [InlineData("MARKETING", """[{"type":"URL","text":"A","url":"https://a.example"},{"type":"URL","text":"B","url":"https://b.example"}]""", "ok")]
    [InlineData("MARKETING", """[{"type":"URL","text":"A","url":"https://a.example"},{"type":"URL","text":"B","url":"https://b.example"},{"type":"URL","text":"C","url":"https://c.example"}]""", "buttons[2].type: at most 2 URL button(s)")]
    [InlineData("MARKETING", """[{"type":"PHONE_NUMBER","text":"A","phone_number":"+911"},{"type":"PHONE_NUMBER","text":"B","phone_number":"+912"}]""", "buttons[1].type: at most 1 PHONE_NUMBER button(s)")]
    [InlineData("MARKETING", """[{"type":"QUICK_REPLY","text":"A"},{"type":"QUICK_REPLY","text":"B"},{"type":"URL","text":"Go","url":"https://a.example"},{"type":"PHONE_NUMBER","text":"Call","phone_number":"+911"}]""", "ok")]
    [InlineData("MARKETING", """[{"type":"URL","text":"Go","url":"https://a.example"},{"type":"PHONE_NUMBER","text":"Call","phone_number":"+911"},{"type":"QUICK_REPLY","text":"A"},{"type":"QUICK_REPLY","text":"B"}]""", "ok")]
    [InlineData("MARKETING", """[{"type":"QUICK_REPLY","text":"A"},{"type":"URL","text":"Go","url":"https://a.example"},{"type":"QUICK_REPLY","text":"B"}]""", "buttons[2].type: must each be together")]
    [InlineData("MARKETING", """[{"type":"URL","text":"Go","url":"https://a.example"},{"type":"QUICK_REPLY","text":"A"},{"type":"PHONE_NUMBER","text":"Call","phone_number":"+911"}]""", "buttons[2].type: must each be together")]
    [InlineData("MARKETING", """[{"type":"QUICK_REPLY","text":"Yes","url":"https://a.example"}]""", "buttons[0].url: buttons[0].url is only for URL buttons")]
    [InlineData("MARKETING", """[{"type":"URL","text":"Go","url":"https://a.example","phone_number":"+911"}]""", "buttons[0].phone_number: buttons[0].phone_number is only for PHONE_NUMBER buttons")]
    [InlineData("MARKETING", """[{"type":"QUICK_REPLY","text":"Yes","example":"x"}]""", "buttons[0].example: only for URL and COPY_CODE")]
    [InlineData("MARKETING", """[{"type":"QUICK_REPLY"}]""", "buttons[0].text: buttons[0].text is required")]
    [InlineData("MARKETING", """[{"type":"QUICK_REPLY","text":"Twenty-five characters!!!"}]""", "ok")]
    [InlineData("MARKETING", """[{"type":"QUICK_REPLY","text":"Twenty-six characters long"}]""", "buttons[0].text: at most 25 characters")]
    [InlineData("MARKETING", """[{"type":"COPY_CODE","example":" SAVE10 "}]""", "ok")]
    [InlineData("UTILITY", """[{"type":"COPY_CODE","example":"SAVE10"}]""", "buttons[0].type: MARKETING templates only")]
    [InlineData("MARKETING", """[{"type":"COPY_CODE","text":"Copy","example":"SAVE10"}]""", "buttons[0].text: WhatsApp writes the label")]
    [InlineData("MARKETING", """[{"type":"COPY_CODE","example":"SAVE-10"}]""", "buttons[0].example: at most 15 letters and digits")]
    [InlineData("MARKETING", """[{"type":"COPY_CODE","example":"A1"},{"type":"COPY_CODE","example":"B2"}]""", "buttons[1].type: at most 1 COPY_CODE")]
    [InlineData("MARKETING", """[{"type":"URL","text":"Go"}]""", "buttons[0].url: buttons[0].url is required")]
    [InlineData("MARKETING", """[{"type":"URL","text":"Go","url":" http://a.example/t/{{1}} ","example":"ORD-1"}]""", "ok")]
    [InlineData("MARKETING", """[{"type":"URL","text":"Go","url":"https://a.example/x","example":"y"}]""", "buttons[0].example: only for a link that ends in {{1}}")]
    [InlineData("MARKETING", """[{"type":"URL","text":"Go","url":"https://a.example/{{1}}","example":"ORD\n1"}]""", "buttons[0].example: control characters")]
    [InlineData("MARKETING", """[{"type":"URL","text":"Go","url":"https://a.example/{{1}}/x"}]""", "buttons[0].url: may end in {{1}}")]
    [InlineData("MARKETING", """[{"type":"URL","text":"Go","url":"https://a.example/x}}/{{1}}"}]""", "buttons[0].url: may end in {{1}}")]
    [InlineData("MARKETING", """[{"type":"URL","text":"Go","url":"https://a.example/{{x/{{1}}"}]""", "buttons[0].url: may end in {{1}}")] // braces without their pair
    [InlineData("MARKETING", "a link of 2000 characters", "ok")]
    [InlineData("MARKETING", "a link of 2001 characters", "buttons[0].url: at most 2000 characters")]
    [InlineData("MARKETING", """[{"type":"URL","text":"Go","url":"https://a.example/my order"}]""", "buttons[0].url: without spaces")]
    [InlineData("MARKETING", """[{"type":"URL","text":"Go","url":"ftp://a.example/x"}]""", "buttons[0].url: absolute http(s) link")]
    [InlineData("MARKETING", """[{"type":"URL","text":"Go","url":"/track/{{1}}"}]""", "buttons[0].url: absolute http(s) link")]
    [InlineData("MARKETING", """[{"type":"PHONE_NUMBER","text":"Call","phone_number":" 91 "}]""", "ok")]
    [InlineData("MARKETING", """[{"type":"PHONE_NUMBER","text":"Call","phone_number":"+1234567890123456789"}]""", "ok")]
    [InlineData("MARKETING", """[{"type":"PHONE_NUMBER","text":"Call","phone_number":"+12345678901234567890"}]""", "buttons[0].phone_number: digits only")]
    [InlineData("MARKETING", """[{"type":"PHONE_NUMBER","text":"Call","phone_number":"9"}]""", "buttons[0].phone_number: digits only")]
    [InlineData("MARKETING", """[{"type":"PHONE_NUMBER","text":"Call","phone_number":"+"}]""", "buttons[0].phone_number: digits only")]
    [InlineData("MARKETING", """[{"type":"PHONE_NUMBER","text":"Call","phone_number":"-919876543210"}]""", "buttons[0].phone_number: digits only")]
    [InlineData("MARKETING", """[{"type":"PHONE_NUMBER","text":"Call","phone_number":"+91987654321x"}]""", "buttons[0].phone_number: digits only")]
    [InlineData("MARKETING", """[{"type":"PHONE_NUMBER","text":"Call"}]""", "buttons[0].phone_number: phone_number is required")]
    [InlineData("MARKETING", """[{"type":"PHONE_NUMBER","text":"Call","phone_number":"+911","example":"x"}]""", "buttons[0].example: only for URL and COPY_CODE")]
    public void ButtonsAreCheckedAgainstMetasRules(string category, string? buttons, string expected)
    {
        var json = buttons switch
        {
            "ten quick replies" => TenQuickReplies,
            "eleven quick replies" => TenQuickReplies.Replace("]", """,{"type":"QUICK_REPLY","text":"R11"}]""", StringComparison.Ordinal),
            _ when buttons?.StartsWith("a link of ", StringComparison.Ordinal) == true =>
                $$"""[{"type":"URL","text":"Go","url":"https://a.example/{{new string('p', int.Parse(buttons.Split(' ')[3], System.Globalization.CultureInfo.InvariantCulture) - 18)}}"}]""",
            _ => buttons,
        };

        var error = TemplateButtonRules.Validate(json is null ? null : JsonSerializer.Deserialize<List<CreateTemplateButton?>>(json, Json), category);

        if (expected == "ok")
        {
            Assert.Null(error?.Body.Error);
            return;
        }

        var (field, reason) = (expected[..expected.IndexOf(": ", StringComparison.Ordinal)], expected[(expected.IndexOf(": ", StringComparison.Ordinal) + 2)..]);
        Assert.NotNull(error);
        Assert.Equal(field, error.Body.Field);
        Assert.Contains(reason, error.Body.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type":" url ","text":" Track ","url":" https://a.example/t/{{1}} ","example":" ORD 1/2 "}""", "URL|Track|https://a.example/t/{{1}}|-|https://a.example/t/ORD%201%2F2")]
    [InlineData("""{"type":"URL","text":"Track","url":"https://a.example/t/{{1}}"}""", "URL|Track|https://a.example/t/{{1}}|-|https://a.example/t/example")]
    [InlineData("""{"type":"URL","text":"Track","url":"https://a.example/t/{{1}}","example":" "}""", "URL|Track|https://a.example/t/{{1}}|-|https://a.example/t/example")]
    [InlineData("""{"type":"URL","text":"Shop","url":"https://a.example"}""", "URL|Shop|https://a.example|-|-")]
    [InlineData("""{"type":"copy_code","example":" SAVE10 "}""", "COPY_CODE|-|-|-|SAVE10")]
    [InlineData("""{"type":"PHONE_NUMBER","text":"Call","phone_number":" +919876543210 "}""", "PHONE_NUMBER|Call|-|+919876543210|-")]
    [InlineData("""{"type":"QUICK_REPLY","text":"Stop"}""", "QUICK_REPLY|Stop|-|-|-")]
    public void AButtonGoesToMetaTrimmedWithItsWholeLinkAsTheExample(string button, string expected)
    {
        var meta = TemplateButtonRules.ToMeta(JsonSerializer.Deserialize<CreateTemplateButton>(button, Json)!);

        Assert.Equal(expected, string.Join('|', meta.Type, meta.Text ?? "-", meta.Url ?? "-", meta.PhoneNumber ?? "-", meta.Example ?? "-"));
    }

    [Theory]
    [InlineData(null, "")]
    [InlineData("""[{"type":"QUICK_REPLY","text":"Stop"},{"type":" url ","text":"Track","url":" https://a.example/t/{{1}} "},{"type":"URL","text":"Shop","url":"https://a.example"},{"type":"copy_code","example":"SAVE10"},{"type":"PHONE_NUMBER","text":"Call","phone_number":"+911"}]""",
        "none,url_suffix,none,coupon_code,none")]
    public void EachButtonIsKeptAsWhatASendGivesIt(string? buttons, string kinds)
    {
        var list = buttons is null ? null : JsonSerializer.Deserialize<List<CreateTemplateButton?>>(buttons, Json);

        Assert.Equal(kinds, string.Join(',', TemplateButtonRules.Kinds(list)));
    }
}
