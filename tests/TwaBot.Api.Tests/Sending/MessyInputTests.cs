using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Sending;

/// <summary>
/// What CRMs, form builders and people pasting into Postman really send: each is either read as meant
/// or refused by name, and a refused request stores no message.
/// </summary>
public class MessyInputTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    private const string Template = "order_confirmation";

    [Fact]
    public async Task AQuickSendPhoneWhosePlusMayBeASpaceIsRefusedNotGuessed()
    {
        var tenant = await factory.CreateSendingTenantAsync();

        // Decoded as a form value, '+' is a space: +65 9123 4567 (Singapore) became 91 6591234567 (India). Read as
        // a plus, a form encoder's " 9876543210" would become Iran. The digits cannot tell, so the caller must.
        var ambiguous = await tenant.Client.GetAsync($"/api/v1/quick-send?phone=+6591234567&template={Template}&params=a,b,c");
        var encoded = await tenant.Client.GetAsync($"/api/v1/quick-send?phone=%2B6591234567&template={Template}&params=a,b,c");
        var longer = await tenant.Client.GetAsync($"/api/v1/quick-send?phone=+447911123456&template={Template}&params=a,b,c");

        var error = await ambiguous.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("phone", error.GetProperty("field").GetString());
        Assert.Contains("%2B", error.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("6591234567", (await encoded.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("phone").GetString());
        Assert.Equal("447911123456", (await longer.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("phone").GetString());
        await factory.WithDbAsync(async db => Assert.False(await db.Messages.AnyAsync(m => m.To == "916591234567")));
    }

    [Theory]
    // A form's country picker ("+91") joined to its phone field as the customer typed it, with the trunk 0 ("098765 43210"):
    // was sent to 9109876543210, which is no number (Indian numbers never start with 0 after 91), and answered 200.
    [InlineData("%2B91098765%2043210")]
    [InlineData("%2B91%20098765%2043210")]
    [InlineData("9109876543210")]       // a CRM's "91" column joined to "09876543210"
    [InlineData("91%20098765%2043210")]
    public async Task AQuickSendPhoneWithIndiasTrunkZeroAfter91GoesToTheNumberTyped(string phone)
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.GetAsync($"/api/v1/quick-send?phone={phone}&template={Template}&params=Rahul,ORD-1,x");

        Assert.Equal("919876543210", (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("phone").GetString());
        await factory.WithDbAsync(async db => Assert.False(await db.Messages.AnyAsync(m => m.To == "9109876543210")));
    }

    [Theory]
    // 13 digits the trunk-0 rule above must leave alone: a German mobile (4th digit 6-9, but no 910), and an Indian
    // number with a digit too many, which fails at Meta rather than reaching 918765432101, someone else's number.
    [InlineData("%2B49%20176%2012345678", "4917612345678")]
    [InlineData("%2B91%2098765%20432101", "9198765432101")]
    public async Task AQuickSendPhoneOf13DigitsWithoutIndiasTrunkZeroKeepsItsDigits(string phone, string normalized)
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.GetAsync($"/api/v1/quick-send?phone={phone}&template={Template}&params=Rahul,ORD-1,x");

        Assert.Equal(normalized, (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("phone").GetString());
    }

    [Theory]
    [InlineData("phone=919876543210&template=order_confirmation&params=Jos%E9,b,c", "params")]
    [InlineData("phone=919876543210&template=order_confirmation&params=a,b,c&params=d", "params")]
    [InlineData("phone=919876543210&template=order_confirmation&params=a,b,c&phone=919876543211", "phone")]
    [InlineData("phone=919876543210&amp;template=order_confirmation&amp;params=a,b,c", "template")] // copied from an HTML page
    [InlineData("phone=919876543210&template=order_confirmation&params[]=Rahul&params[]=ORD-1&params[]=100", "params")] // PHP's array style
    [InlineData("phone=919876543210&template_name=order_confirmation&params=a,b,c", "template")] // send-template's field name
    [InlineData("phone=919876543210&template=order_confirmation&language=hi&params=a,b,c", "lang")] // was sent in English
    public async Task AQuickSendValueThatCannotBeReadAsWrittenIsRefusedByName(string query, string field)
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.GetAsync("/api/v1/quick-send?" + query);

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal(field, json.GetProperty("field").GetString());
        await AssertNothingStoredAsync(tenant);
    }

    [Theory]
    // The API docs' example as their page shows it, "&params=" rendered "¶ms=", percent-encoded as a browser or Postman sends it.
    [InlineData("phone=919876543210&template=order_confirmation&lang=en%C2%B6ms=Rahul,ORD-12345,%E2%82%B91499", "lang")]
    [InlineData("phone=919876543210&template=order_confirmation%C2%B6ms=Rahul,ORD-12345,%E2%82%B91499", "template")]
    public async Task TheDocsQuickSendExampleCopiedWithItsPilcrowSaysWhatIsWrong(string query, string field)
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.GetAsync("/api/v1/quick-send?" + query);

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal(field, json.GetProperty("field").GetString());
        Assert.Contains("&params=", json.GetProperty("error").GetString(), StringComparison.Ordinal);
        await AssertNothingStoredAsync(tenant);
    }

    [Fact]
    public async Task AQuickSendMessageInLatin1IsRefusedNotSentAsPercentSigns()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.CustomerWritesAsync(tenant.BusinessId, "919876543210");

        var latin1 = await tenant.Client.GetAsync("/api/v1/quick-send?phone=919876543210&message=caf%E9");
        var repeated = await tenant.Client.GetAsync("/api/v1/quick-send?phone=919876543210&message=hello&message=world");

        Assert.Equal("message", (await latin1.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("field").GetString());
        Assert.Equal("message", (await repeated.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("field").GetString());
        await AssertNothingStoredAsync(tenant);
    }

    [Theory]
    [InlineData("message=Rock+&+Roll+tonight")]                   // an '&' a form builder did not encode: was sent as "Rock "
    [InlineData("message=Your%2520order%2520has%2520shipped")]   // encoded twice: was sent as "Your%20order%20has%20shipped"
    [InlineData("message=Total%253A%25E2%2582%25B91%252C499")]   // encoded twice: was sent as "Total%3A%E2%82%B91%2C499"
    public async Task AQuickSendTextThatWouldReachTheCustomerMangledIsRefused(string message)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.CustomerWritesAsync(tenant.BusinessId, "919876543210");

        var response = await tenant.Client.GetAsync("/api/v1/quick-send?phone=919876543210&" + message);

        Assert.Equal("message", (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("field").GetString());
        await AssertNothingStoredAsync(tenant);
        var encoded = await tenant.Client.GetAsync("/api/v1/quick-send?phone=919876543210&message=Rock+%26+Roll+tonight");
        await encoded.ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task AQuickSendForAnUnknownTemplateNamesTheTemplateParameter()
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.GetAsync("/api/v1/quick-send?phone=919876543210&template=nope&params=a");

        Assert.Equal("template", (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND")).GetProperty("field").GetString());
    }

    [Fact]
    public async Task ALanguageWithATrailingLineBreakIsTheLanguage()
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = Template, language = "en\n", body_params = new[] { "a", "b", "c" } });

        Assert.Equal(Template, (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("template").GetString());
    }

    [Theory]
    [InlineData("send-template")]
    [InlineData("quick-send")]
    public async Task ATemplateNameWithSurroundingWhitespaceIsTheTemplate(string route)
    {
        // A name pasted from a spreadsheet cell keeps its line break; the template is found and named without it.
        var tenant = await factory.CreateSendingTenantAsync();

        var response = route == "quick-send"
            ? await tenant.Client.GetAsync($"/api/v1/quick-send?phone=919876543210&template=+{Template}%0A&params=a,b,c")
            : await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
                new { phone = "919876543210", template_name = $" {Template}\n", body_params = new[] { "a", "b", "c" } });

        Assert.Equal(Template, (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("template").GetString());
    }

    [Theory]
    [InlineData("\u0000", "control characters")]
    [InlineData("Hello\u0000world", "control characters")]
    [InlineData("\u200b", "required")]        // a zero-width space: nothing a reader would see
    [InlineData("\u200e \u00a0", "required")]
    public async Task TextThatShowsNothingOrHoldsControlCharactersIsRefused(string message, string says)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.CustomerWritesAsync(tenant.BusinessId, "919876543210");

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "919876543210", message });

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("message", json.GetProperty("field").GetString());
        Assert.Contains(says, json.GetProperty("error").GetString(), StringComparison.Ordinal);
        await AssertNothingStoredAsync(tenant);
    }

    [Theory]
    [InlineData("\u200b")]
    [InlineData("a\u0000b")]
    [InlineData("a\u2028b")] // a Unicode line separator is a line break too
    public async Task ATemplateParameterThatShowsNothingOrBreaksALineIsRefusedByIndex(string parameter)
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = Template, body_params = new[] { parameter, "b", "c" } });

        Assert.Equal("body_params[0]", (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("field").GetString());
    }

    [Theory]
    [InlineData("application/x-www-form-urlencoded", null, "phone=919876543210&template_name=order_confirmation", "quick-send")]
    [InlineData("multipart/form-data; boundary=x", null, "--x--", "quick-send")]
    [InlineData("application/json; charset=iso-8859-1", null, """{"phone":"919876543210"}""", "charset=iso-8859-1")]
    [InlineData("application/json", "gzip", """{"phone":"919876543210"}""", "Content-Encoding: gzip")]
    public async Task ABodyThatIsNotPlainUtf8JsonIsRefusedAsSuch(string contentType, string? encoding, string body, string says)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (encoding is not null)
        {
            content.Headers.ContentEncoding.Add(encoding);
        }

        var response = await tenant.Client.PostAsync("/api/v1/send-template", content);

        var json = await response.AssertErrorAsync(HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE");
        Assert.Contains(says, json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("identity")]
    [InlineData("Identity")]
    [InlineData("identity, identity")]
    public async Task ABodyDeclaredNotCompressedIsSent(string encoding)
    {
        // Content-Encoding: identity is "no encoding" (some HTTP libraries send it): the body is plain JSON, not a 415.
        var tenant = await factory.CreateSendingTenantAsync();
        using var content = new StringContent(
            """{"phone":"919876543210","template_name":"order_confirmation","body_params":["a","b","c"]}""", Encoding.UTF8, "application/json");
        Assert.True(content.Headers.TryAddWithoutValidation("Content-Encoding", encoding));

        var response = await tenant.Client.PostAsync("/api/v1/send-template", content);

        Assert.Equal("queued", (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("delivery_status").GetString());
    }

    [Theory]
    [InlineData("", "A JSON request body is required.")]
    [InlineData("null", "A JSON request body is required.")]
    [InlineData(" \r\n\t", "A JSON request body is required.")] // only the whitespace a template engine leaves: no body, not "not valid JSON"
    [InlineData("[]", "must be a JSON object")]
    [InlineData("\"919876543210\"", "must be a JSON object")]
    [InlineData("hello", "not valid JSON")]
    [InlineData("<xml/>", "not valid JSON")]
    [InlineData("{\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", "more than 64 levels deep")] // valid JSON, in a field nobody reads
    public async Task ABodyThatIsNotAJsonObjectSaysWhatItIs(string body, string says)
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsync("/api/v1/send-template", new StringContent(body, Encoding.UTF8, "application/json"));

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Contains(says, json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"phone\":\"919876543210\",\"template_name\":\"order_confirmation\",}",
        "Request body is not valid JSON at line 1, position 62: remove the comma after the last value, which JSON does not allow.")]
    [InlineData("{\"phone\":\"919876543210\",\n // the customer\n\"template_name\":\"order_confirmation\"}",
        "Request body is not valid JSON at line 2, position 2: JSON has no comments; remove them.")]
    [InlineData("{'phone':'919876543210'}",
        "Request body is not valid JSON at line 1, position 2: JSON names and strings take double quotes (\"phone\"), not single quotes.")]
    [InlineData("{phone:\"919876543210\"}",
        "Request body is not valid JSON at line 1, position 2: each field name takes double quotes (\"phone\": …).")]
    [InlineData("{\"phone\":\"919876543210\",\"template_name\":\"order_con",
        "Request body is not valid JSON at line 1, position 51: the body ends before the JSON does (a } or ] is missing, or the body was cut short).")]
    [InlineData("hello", "Request body is not valid JSON at line 1, position 1.")]
    [InlineData("{\"phone\":\"919876543210\",\"template_name\":\"order_confirmation\",\"body_params\":[\"राहुल\",]}",
        "Request body is not valid JSON at line 1, position 85: remove the comma after the last value, which JSON does not allow.")] // characters, as an editor counts them: was 95, the bytes (each Hindi letter is three)
    [InlineData("{\"phone\":\"919876543210\",\n# the customer\n\"template_name\":\"order_confirmation\"}",
        "Request body is not valid JSON at line 2, position 1: JSON has no comments; remove them.")]
    [InlineData("{\"body_params\":[\"राहुल\",],\n\"phone\":\"919876543210\",\"template_name\":\"order_confirmation\"}",
        "Request body is not valid JSON at line 1, position 25: remove the comma after the last value, which JSON does not allow.")] // the characters of its own line, not the next one's
    [InlineData("\"राहुल", "Request body is not valid JSON at line 1, position 7: the body ends before the JSON does (a } or ] is missing, or the body was cut short).")] // cut short in its first value
    [InlineData("{\"phone\":\"919876543210\",\"template_name\":\"order_confirmation\"}\n{\"phone\":\"919876543211\",\"template_name\":\"order_confirmation\"}",
        "Request body is not valid JSON at line 2, position 1: the JSON ends before the body does; send one object, with nothing after its closing }.")] // two sends in one body (a JSON-lines export): was told a } was missing
    [InlineData("{\"phone\":\"919876543210\",\"template_name\":\"order_confirmation\"}]",
        "Request body is not valid JSON at line 1, position 62: the JSON ends before the body does; send one object, with nothing after its closing }.")] // a stray ] after it
    public async Task HandWrittenJsonMistakesAreNamedWithWhereTheyAre(string body, string error)
    {
        // Was "Request body is not valid JSON." for each: no place, no cause, for a mistake a hand-written body makes often.
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsync("/api/v1/send-template", new StringContent(body, Encoding.UTF8, "application/json"));

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal(error, json.GetProperty("error").GetString());
        await AssertNothingStoredAsync(tenant);
    }

    [Fact]
    public async Task ABodyStartingWithAByteOrderMarkIsRead()
    {
        // PowerShell 5's and Notepad's UTF-8 puts EF BB BF first: the JSON after it is read, not answered "not valid JSON".
        var tenant = await factory.CreateSendingTenantAsync();
        var body = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes("""{"phone":"919876543210","template_name":"order_confirmation","body_params":["Rahul","ORD-1","₹1499"]}""")).ToArray();
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/json");

        var response = await tenant.Client.PostAsync("/api/v1/send-template", content);

        Assert.Equal("queued", (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("delivery_status").GetString());
    }

    [Theory]
    [InlineData("send-template")]
    [InlineData("quick-send")]
    public async Task AnEmptyButtonValueIsRefusedByIndexBeforeTheTemplateIsLookedUp(string route)
    {
        // A form whose coupon field was left blank: WhatsApp rejects an empty parameter, so the answer names which one.
        var tenant = await factory.CreateSendingTenantAsync();

        var response = route == "quick-send"
            ? await tenant.Client.GetAsync($"/api/v1/quick-send?phone=919876543210&template={Template}&params=a,b,c&button_params=ORD-1,")
            : await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
                new { phone = "919876543210", template_name = Template, body_params = new[] { "a", "b", "c" }, button_params = new[] { "ORD-1", " " } });

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("button_params[1]", json.GetProperty("field").GetString());
        Assert.Contains("non-empty", json.GetProperty("error").GetString(), StringComparison.Ordinal);
        await AssertNothingStoredAsync(tenant);
    }

    [Fact]
    public async Task ALatin1BodyLabelledAsJsonIsRefusedAsNotUtf8()
    {
        // A PHP or Windows client that writes "José" in Latin-1 without saying so: the byte E9 alone is no UTF-8.
        var tenant = await factory.CreateSendingTenantAsync();
        var body = Encoding.Latin1.GetBytes("""{"phone":"919876543210","template_name":"order_confirmation","body_params":["José","b","c"]}""");
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/json");

        var response = await tenant.Client.PostAsync("/api/v1/send-template", content);

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("body_params[0]", json.GetProperty("field").GetString());
        Assert.StartsWith("body_params[0] is not valid UTF-8", json.GetProperty("error").GetString(), StringComparison.Ordinal);
        await AssertNothingStoredAsync(tenant);
    }

    [Fact]
    public async Task AnEscapeOfHalfAnEmojiIsRefusedAsSuch()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.CustomerWritesAsync(tenant.BusinessId, "919876543210");

        var response = await tenant.Client.PostAsync("/api/v1/send-text",
            new StringContent("""{"phone":"919876543210","message":"Thanks \ud83d"}""", Encoding.UTF8, "application/json"));

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("message", json.GetProperty("field").GetString());
        Assert.StartsWith("message has a \\u escape of half a character (an unpaired surrogate)", json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("send-text", """{"phone":"919876543210","message":42}""", "message", "a string, in double quotes (\"12345\", not 12345)")]
    [InlineData("send-text", """{"phone":"919876543210","message":true}""", "message", "a string, in double quotes (\"12345\", not 12345)")]
    [InlineData("send-text", """{"phone":9876543210,"message":"Hi"}""", "phone", "a string, in double quotes (\"12345\", not 12345)")]
    [InlineData("send-template", """{"phone":"919876543210","template_name":"order_confirmation","body_params":["Rahul",12345,1499]}""",
        "body_params[1]", "a string, in double quotes (\"12345\", not 12345)")]
    [InlineData("send-template", """{"phone":"919876543210","template_name":"order_confirmation","body_params":"Rahul,ORD-12345,1499"}""",
        "body_params", "an array of strings, e.g. [\"Rahul\", \"ORD-12345\"]")]
    public async Task AFieldOfTheWrongTypeIsToldWhatItTakes(string route, string body, string field, string takes)
    {
        // A number where text belongs is no broken UTF-8 and no half emoji: the message must not send the caller
        // there, and "the wrong type" alone leaves a CRM that wrote an amount as a number guessing which type.
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsync($"/api/v1/{route}", new StringContent(body, Encoding.UTF8, "application/json"));

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal(field, json.GetProperty("field").GetString());
        Assert.Equal($"{field} must be {takes}.", json.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("send-template", """{"phone":"919876543210","templateName":"order_confirmation","bodyParams":["a","b","c"]}""",
        "template_name", "templateName")]
    [InlineData("send-template", """{"phone":"919876543210","template_name":"order_confirmation","BodyParams":["a","b","c"]}""",
        "body_params", "BodyParams")] // was "the template takes 3 body_params, got 0"
    [InlineData("send-media", """{"phone":"919876543210","media-type":"image","media_url":"https://cdn.example/a.png"}""",
        "media_type", "media-type")]
    [InlineData("send-otp", """{"phone":"919876543210","templateName":"otp_verification"}""", "template_name", "templateName")]
    [InlineData("send-template", """{"phone":"919876543210","body_params":["a","b","c"],"templateName":"order_confirmation"}""",
        "template_name", "templateName")] // after a list: its values are stepped over, not read as the body's last field
    public async Task AFieldWrittenInAnotherCaseStyleIsRefusedNamingBoth(string route, string body, string field, string given)
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsync($"/api/v1/{route}", new StringContent(body, Encoding.UTF8, "application/json"));

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal(field, json.GetProperty("field").GetString());
        Assert.Equal($"{field} is written \"{given}\" in the body: this API's fields are snake_case, so write \"{field}\".",
            json.GetProperty("error").GetString());
        await AssertNothingStoredAsync(tenant);
    }

    [Theory]
    [InlineData("send-template", """{"phone":"919876543210","template_name":"order_confirmation","lang":"hi","body_params":["a","b","c"]}""",
        "language", "lang")] // was sent in "en", the default, to a CRM that asked for Hindi
    [InlineData("send-template", """{"phone":"919876543210","template":"order_confirmation","body_params":["a","b","c"]}""",
        "template_name", "template")] // was "template_name is required"
    [InlineData("send-template", """{"phone":"919876543210","template_name":"order_confirmation","params":["a","b","c"]}""",
        "body_params", "params")] // was "body_params gave 0"
    [InlineData("send-otp", """{"phone":"919876543210","template":"otp_verification"}""", "template_name", "template")]
    [InlineData("send-otp", """{"phone":"919876543210","template_name":"otp_verification","code":"4821"}""", "otp", "code",
        "not this API's name for it")] // was sent with a generated code, not the CRM's: its user could not log in
    [InlineData("send-text", """{"phone":"919876543210","text":"Hello"}""", "message", "text", "not this API's name for it")] // was "message is required."
    [InlineData("send-text", """{"phone":"919876543210","body":"Hello"}""", "message", "body", "not this API's name for it")]
    public async Task AnotherNameForAFieldIsRefusedNamingTheBodysName(
        string route, string body, string field, string given, string whose = "quick-send's name for it")
    {
        // quick-send refuses send-template's names (template_name=, body_params=, language=); a body refuses quick-send's.
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsync($"/api/v1/{route}", new StringContent(body, Encoding.UTF8, "application/json"));

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal(field, json.GetProperty("field").GetString());
        Assert.Equal($"{field} is written \"{given}\", {whose}: in a JSON body, write \"{field}\".",
            json.GetProperty("error").GetString());
        await AssertNothingStoredAsync(tenant);
    }

    [Theory]
    [InlineData("""{"phone":"919876543210","Template_Name":"order_confirmation","body_params":["a","b","c"]}""")] // names are case-insensitive
    [InlineData("""{"phone":"919876543210","template_name":"order_confirmation","body_params":["a","b","c"],"campaignId":"c-7"}""")]
    [InlineData("""{"phone":"919876543210","template_name":"order_confirmation","body_params":["a","b","c"],"bodyParams":[]}""")]
    [InlineData("""{"phone":"919876543210","template_name":"order_confirmation","body_params":["a","b","c"],"language":"en","lang":"en-US"}""")] // quick-send's name beside ours
    [InlineData("""{"phone":"919876543210","template_name":"order_confirmation","body_params":["a","b","c"],"text":"Hi"}""")] // send-text's field is not this body's
    public async Task FieldsOfTheCallersOwnBesideOursAreLeftAlone(string body)
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsync("/api/v1/send-template", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task AFieldGivenTwiceIsRefusedNotSentToTheLastOne()
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsync("/api/v1/send-template", new StringContent(
            """{"phone":"919876543211","phone":"919876543210","template_name":"order_confirmation","body_params":["a","b","c"]}""",
            Encoding.UTF8, "application/json"));

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("phone", json.GetProperty("field").GetString());
        Assert.Contains("more than once", json.GetProperty("error").GetString(), StringComparison.Ordinal);
        await AssertNothingStoredAsync(tenant);
    }

    [Theory]
    [InlineData("", 6)]       // an empty field from a form tool means "generate one"
    [InlineData(" 4829 ", 4)]
    public async Task AnEmptyOrPaddedOtpIsReadAsMeant(string otp, int digits)
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-otp",
            new { phone = "919876543210", template_name = "otp_verification", otp });

        Assert.Matches($"^[0-9]{{{digits}}}$", (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("otp").GetString());
    }

    [Theory]
    [InlineData("audio", "https://example.com/a.ogg", "Listen", "caption")]              // WhatsApp shows no caption on audio
    [InlineData("image", "https://example.com/my photo.jpg", null, "media_url")]
    [InlineData("image", "https://example.com/a.jpg\u200b", null, "media_url")]
    public async Task MediaTheCustomerWouldNotSeeAsSentIsRefusedByName(string mediaType, string url, string? caption, string field)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.CustomerWritesAsync(tenant.BusinessId, "919876543210");

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-media",
            new { phone = "919876543210", media_type = mediaType, media_url = url, caption });

        Assert.Equal(field, (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("field").GetString());
    }

    [Theory]
    [InlineData("Invoice\n123.pdf", "U+000A at position 8")]
    [InlineData("Invoice\u0000.pdf", "U+0000 at position 8")]
    [InlineData("Invoice\t123.pdf", "U+0009 at position 8")]
    [InlineData("\u0000Invoice.pdf", "U+0000 at position 1")] // first: trimming takes out spaces, not NUL
    [InlineData("Invoice\u2028123.pdf", "U+2028 at position 8")] // Unicode's line separator breaks the line too
    [InlineData("Invoice\u2029123.pdf", "U+2029 at position 8")] // and its paragraph separator
    [InlineData("Invoice\u202Efdp.exe", "U+202E at position 8")] // a direction override: shows as "Invoiceexe.pdf"
    [InlineData("Invoice\u202Dfdp.exe", "U+202D at position 8")]
    [InlineData("Invoice\u2067fdp.exe", "U+2067 at position 8")] // an isolate reorders as well
    [InlineData("\u202BInvoice.pdf", "U+202B at position 1")]
    public async Task AFilenameThatIsNotOneLineOrDisguisesItsTypeIsRefusedNotSentToMeta(string filename, string says)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.CustomerWritesAsync(tenant.BusinessId, "919876543210");

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-media",
            new { phone = "919876543210", media_type = "document", media_url = "https://example.com/invoice.pdf", filename });

        var error = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("filename", error.GetProperty("field").GetString());
        Assert.Contains(says, error.GetProperty("error").GetString(), StringComparison.Ordinal);
        await AssertNothingStoredAsync(tenant);
    }

    [Fact]
    public async Task AFilenameInARightToLeftScriptWithItsDirectionMarksIsSent()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.CustomerWritesAsync(tenant.BusinessId, "919876543210");

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-media",
            new { phone = "919876543210", media_type = "document", media_url = "https://example.com/invoice.pdf", filename = "\u0641\u0627\u062A\u0648\u0631\u0629\u200F 123.pdf" });

        Assert.Equal("document", (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("media_type").GetString());
    }

    [Fact]
    public async Task AFilenameEndingInALineBreakIsTrimmedNotRefused()
    {
        // A form's text area ends what was typed with a line break: no second line of the name, only its end.
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.CustomerWritesAsync(tenant.BusinessId, "919876543210");

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-media",
            new { phone = "919876543210", media_type = "document", media_url = "https://example.com/invoice.pdf", filename = " Invoice.pdf\r\n" });

        Assert.Equal("document", (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("media_type").GetString());
    }

    [Fact]
    public async Task AFilenameIsCountedInCharactersLikeEveryOtherLimit()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.CustomerWritesAsync(tenant.BusinessId, "919876543210");
        // 236 emoji and ".pdf": 240 characters, though 476 UTF-16 units.
        var longest = string.Concat(Enumerable.Repeat("📄", 236)) + ".pdf";

        var atTheLimit = await tenant.Client.PostAsJsonAsync("/api/v1/send-media",
            new { phone = "919876543210", media_type = "document", media_url = "https://example.com/a.pdf", filename = longest });
        var overIt = await tenant.Client.PostAsJsonAsync("/api/v1/send-media",
            new { phone = "919876543210", media_type = "document", media_url = "https://example.com/a.pdf", filename = "📄" + longest });

        await atTheLimit.ReadJsonAsync(HttpStatusCode.OK);
        var error = await overIt.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("filename", error.GetProperty("field").GetString());
    }

    [Fact]
    public async Task ACaptionOfOnlyInvisibleCharactersIsAnEmptyCaption()
    {
        // As for "": a form tool's zero-width space is no caption, so audio (which takes none) is sent.
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.CustomerWritesAsync(tenant.BusinessId, "919876543210");

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-media",
            new { phone = "919876543210", media_type = "audio", media_url = "https://example.com/a.ogg", caption = "\u200b\u00a0" });

        Assert.Equal("audio", (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("media_type").GetString());
    }

    [Theory]
    [InlineData("98765\u2063x43210", "'98765\\u2063x43210'")] // a format character
    [InlineData("98765\u0001x43210", "'98765\\u0001x43210'")] // a control character
    public async Task AnInvalidPhoneIsEchoedWithItsInvisibleCharactersShown(string phone, string echoed)
    {
        var response = await SendTemplateToAsync(phone);

        var error = (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "INVALID_PHONE")).GetProperty("error").GetString();
        Assert.Contains(echoed, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("+91\u201198765\u201143210")]   // non-breaking hyphens, as a web page or word processor writes a number
    [InlineData("+91 \u2013 98765 43210")]        // an en dash, as autocorrect makes " - "
    [InlineData("+91\u201098765\u201543210")]    // Unicode's hyphen and a horizontal bar
    [InlineData("+91 98765\u221243210")]          // a minus sign
    [InlineData("\u200f+91\u201198765 43210")]    // with the direction mark an RTL form puts first
    public async Task APhoneWithAnotherHyphenIsTheSameNumber(string phone)
    {
        // The docs strip hyphens: Unicode's others (U+2010–U+2015, the minus sign) are hyphens to a reader, never digits.
        var response = await SendTemplateToAsync(phone);

        Assert.Equal("919876543210", (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("phone").GetString());
    }

    [Theory]
    [InlineData("\uff0b91 98765 43210")]                                  // a full-width plus
    [InlineData("\uff19\uff18\uff17\uff16\uff15\uff14\uff13\uff12\uff11\uff10")] // full-width digits
    [InlineData("\u0669\u0668\u0667\u0666\u0665\u0664\u0663\u0662\u0661\u0660")] // Arabic-Indic digits
    [InlineData("\u096f\u096e\u096d\u096c\u096b\u096a\u0969\u0968\u0967\u0966")] // Devanagari digits
    public async Task APhoneInOtherDigitsIsRefusedNamingIt(string phone)
    {
        // Digits to char.IsDigit, but not the ASCII ones Meta's "to" takes: refused, never read as another number.
        var response = await SendTemplateToAsync(phone);

        var error = (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "INVALID_PHONE")).GetProperty("error").GetString();
        Assert.Contains($"'{phone}'", error, StringComparison.Ordinal);
        Assert.EndsWith("Type it with the digits 0-9 and +: other scripts' digits are not read.", error, StringComparison.Ordinal); // it looks right to its writer
    }

    [Theory]
    [InlineData("+91 98765 4321O")] // a letter O typed for a zero
    [InlineData("+91 98765")]       // too short
    public async Task AnInvalidPhoneInLatinCharactersSaysNothingOfOtherScriptsDigits(string phone)
    {
        var response = await SendTemplateToAsync(phone);

        var error = (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "INVALID_PHONE")).GetProperty("error").GetString();
        Assert.Equal($"Invalid phone number '{phone}'. Use 8 to 15 digits with the country code, e.g. 919876543210.", error);
    }

    [Theory]
    [InlineData(40, "9198765432919876543291987654329198765432")]
    [InlineData(41, "9198765432919876543291987654329198765432…")] // a 41st character is left off
    public async Task ALongInvalidPhoneIsEchoedUpTo40Characters(int length, string echoed)
    {
        var phone = string.Concat(Enumerable.Repeat("9198765432", 5))[..length];

        var response = await SendTemplateToAsync(phone);

        var error = (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "INVALID_PHONE")).GetProperty("error").GetString();
        Assert.Equal($"Invalid phone number '{echoed}'. Use 8 to 15 digits with the country code, e.g. 919876543210.", error);
    }

    [Fact]
    public async Task AnUnknownTemplateNameIsEchoedWithItsInvisibleCharactersShown()
    {
        // Copied from a chat or a document, the name brought a zero-width space: the error must show why
        // "order_confirmation", which /templates lists, was not found.
        var tenant = await factory.CreateSendingTenantAsync();

        var posted = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = Template + "\u200b", body_params = new[] { "a", "b", "c" } });
        var quick = await tenant.Client.GetAsync($"/api/v1/quick-send?phone=919876543210&template={Template}%E2%80%8B&params=a,b,c");

        Assert.Equal("Template 'order_confirmation\\u200B' not found or not approved.",
            (await posted.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND")).GetProperty("error").GetString());
        Assert.Equal("Template 'order_confirmation\\u200B' not found or not approved.",
            (await quick.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND")).GetProperty("error").GetString());
    }

    [Fact]
    public async Task AMessageIdWithSurroundingWhitespaceIsFound()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var sent = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = Template, body_params = new[] { "a", "b", "c" } });
        var id = (await sent.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("message_id").GetString();

        var response = await tenant.Client.GetAsync($"/api/v1/message-status/{Uri.EscapeDataString(id + "\n")}");

        Assert.Equal(id, (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("message_id").GetString());
    }

    private Task AssertNothingStoredAsync(SendingTenant tenant) => factory.WithDbAsync(async db =>
        Assert.False(await db.Messages.AnyAsync(m => m.BusinessId == tenant.BusinessId)));

    /// <summary>A new sending business's send-template of the three-variable template to <paramref name="phone"/> as written.</summary>
    private async Task<HttpResponseMessage> SendTemplateToAsync(string phone)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        return await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone, template_name = Template, body_params = new[] { "a", "b", "c" } });
    }
}
