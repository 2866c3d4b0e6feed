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
    [InlineData("phone=919876543210&template=order_confirmation&params=Jos%E9,b,c", "params")]
    [InlineData("phone=919876543210&template=order_confirmation&params=a,b,c&params=d", "params")]
    [InlineData("phone=919876543210&template=order_confirmation&params=a,b,c&phone=919876543211", "phone")]
    public async Task AQuickSendValueThatCannotBeReadAsWrittenIsRefusedByName(string query, string field)
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.GetAsync("/api/v1/quick-send?" + query);

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal(field, json.GetProperty("field").GetString());
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
    [InlineData("application/json", "gzip", """{"phone":"919876543210"}""", "Content-Encoding")]
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
    [InlineData("[]", "must be a JSON object")]
    [InlineData("\"919876543210\"", "must be a JSON object")]
    [InlineData("hello", "not valid JSON")]
    [InlineData("<xml/>", "not valid JSON")]
    public async Task ABodyThatIsNotAJsonObjectSaysWhatItIs(string body, string says)
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsync("/api/v1/send-template", new StringContent(body, Encoding.UTF8, "application/json"));

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Contains(says, json.GetProperty("error").GetString(), StringComparison.Ordinal);
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

    [Fact]
    public async Task AnInvalidPhoneIsEchoedWithItsInvisibleCharactersShown()
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "98765\u2063x43210", template_name = Template, body_params = new[] { "a", "b", "c" } });

        var error = (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "INVALID_PHONE")).GetProperty("error").GetString();
        Assert.Contains("'98765\\u2063x43210'", error, StringComparison.Ordinal);
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
}
