using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Sending;

/// <summary>Each send endpoint's success answer, field for field as the public docs show it.</summary>
public class SendEndpointsTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    private const string Note = "Message accepted by Meta. Actual delivery is asynchronous — poll GET /api/v1/message-status/{message_id} to track delivered/read/failed.";

    /// <summary>The API docs' example requests, each with the example answer the docs print under it (twabot-api-v1.txt).</summary>
    public static TheoryData<string, string, string?, string> DocsExamples => new()
    {
        {
            "/api/v1/quick-send?phone=919876543210&template=order_confirmation&lang=en&params=Rahul,ORD-12345,₹1499", "GET", null,
            $$"""{"success": true, "message_id": "wamid.HBgMOTE5ODc2NTQzMjEw...", "phone": "919876543210", "template": "order_confirmation", "delivery_status": "queued", "note": "{{Note}}"}"""
        },
        {
            "/api/v1/quick-send?phone=919876543210&message=Your+order+has+been+shipped", "GET", null,
            $$"""{"success": true, "message_id": "wamid.HBgMOTE5ODc2NTQzMjEw...", "phone": "919876543210", "delivery_status": "queued", "note": "{{Note}}"}"""
        },
        {
            "/api/v1/send-template", "POST",
            """{"phone": "919876543210", "template_name": "order_confirmation", "language": "en", "body_params": ["Rahul", "ORD-12345", "₹1,499"]}""",
            $$"""{"success": true, "message_id": "wamid.HBgMOTE5ODc2NTQzMjEw...", "phone": "919876543210", "template": "order_confirmation", "delivery_status": "queued", "note": "{{Note}}"}"""
        },
        {
            "/api/v1/send-text", "POST",
            """{"phone": "9876543210", "message": "Hi Rahul! Your appointment is confirmed for tomorrow at 2 PM."}""",
            $$"""{"success": true, "message_id": "wamid.HBgMOTE5ODc2NTQzMjEw...", "phone": "919876543210", "delivery_status": "queued", "note": "{{Note}}"}"""
        },
        {
            "/api/v1/send-media", "POST",
            """{"phone": "919876543210", "media_type": "document", "media_url": "https://example.com/invoice-123.pdf", "caption": "Here is your invoice", "filename": "Invoice-123.pdf"}""",
            $$"""{"success": true, "message_id": "wamid.HBgMOTE5ODc2NTQzMjEw...", "phone": "919876543210", "media_type": "document", "delivery_status": "queued", "note": "{{Note}}"}"""
        },
        {
            "/api/v1/send-otp", "POST",
            """{"phone": "919876543210", "template_name": "otp_verification"}""",
            $$"""{"success": true, "message_id": "wamid.HBgMOTE5ODc2NTQzMjEw...", "phone": "919876543210", "otp": "482913", "delivery_status": "queued", "note": "{{Note}}"}"""
        },
    };

    [Theory]
    [MemberData(nameof(DocsExamples))]
    public async Task EachDocsExampleRequestGetsTheDocsExampleAnswerFieldForField(string path, string method, string? body, string example)
    {
        // Only Meta's id and a generated code differ from the docs' answer; every other value, its type and the note are theirs.
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.CustomerWritesAsync(tenant.BusinessId, "919876543210");

        var response = method == "GET"
            ? await tenant.Client.GetAsync(path)
            : await tenant.Client.PostAsync(path, new StringContent(body!, System.Text.Encoding.UTF8, "application/json"));

        var json = await response.ReadJsonAsync(HttpStatusCode.OK);
        var messageId = json.GetProperty("message_id").GetString()!;
        Assert.StartsWith("wamid.", messageId, StringComparison.Ordinal);
        var expected = JsonNode.Parse(example)!.AsObject();
        expected["message_id"] = messageId;
        if (expected.ContainsKey("otp"))
        {
            Assert.Matches("^[0-9]{6}$", json.GetProperty("otp").GetString());
            expected["otp"] = json.GetProperty("otp").GetString();
        }

        Assert.True(JsonElement.DeepEquals(JsonSerializer.SerializeToElement(expected), json), json.ToString());
        // "message_id (returned from any send endpoint)" is what message-status takes.
        var status = await (await tenant.Client.GetAsync($"/api/v1/message-status/{Uri.EscapeDataString(messageId)}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal((messageId, "success", "919876543210"),
            (status.GetProperty("message_id").GetString(), status.GetProperty("api_status").GetString(), status.GetProperty("to").GetString()));
    }

    [Fact]
    public async Task SendOtpGeneratesASixDigitCodeWhenNoneIsGiven()
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-otp", new { phone = "919876543210", template_name = "otp_verification" });

        var json = await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(["success", "message_id", "phone", "otp", "delivery_status", "note"], json.PropertyNames());
        Assert.Matches("^[0-9]{6}$", json.GetProperty("otp").GetString());
    }

    [Fact]
    public async Task AnAuthenticationTemplateSentAsATemplateCarriesItsCodeToTheButton()
    {
        // The emulator, like Meta, refuses an authentication template whose copy-code button gets no code.
        var tenant = await factory.CreateSendingTenantAsync();

        var quick = await tenant.Client.GetAsync("/api/v1/quick-send?phone=919876543210&template=otp_verification&params=654321");
        var tooLong = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "otp_verification", body_params = new[] { "1234567890123456" } });

        await quick.ReadJsonAsync(HttpStatusCode.OK);
        var refused = await tooLong.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_PARAMS_INVALID");
        Assert.Equal("body_params", refused.GetProperty("field").GetString());
        Assert.Equal( // refused here, before Meta (whose refusal would say only that it refused the parameters)
            "Template 'otp_verification' is an AUTHENTICATION template: its one value is the code, at most 15 characters, which Meta also puts on its copy-code button.",
            refused.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("123456789012345", true)]   // the longest code Meta puts on a copy-code button
    [InlineData("1234567890123456", false)]
    public async Task AnAuthenticationTemplatesCodeMayBeFifteenCharactersLong(string code, bool sent)
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "otp_verification", body_params = new[] { code } });

        Assert.Equal(sent ? HttpStatusCode.OK : HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task OnlyAnAuthenticationTemplatesValueIsHeldToACodesLength()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates",
            new { name = "pickup_reference", language = "en", category = "UTILITY", body = "Your pickup reference is {{1}}." })).EnsureSuccessStatusCode();

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "pickup_reference", body_params = new[] { "PICKUP-2026-000012345" } });

        await response.ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task BodyParamsAreOptionalForATemplateWithoutVariables()
    {
        // The docs' send-template table: body_params and header_params are optional; quick-send's params too.
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates",
            new { name = "shipping_update", language = "en", category = "UTILITY", body = "Your order has shipped." })).EnsureSuccessStatusCode();

        var post = await tenant.Client.PostAsJsonAsync("/api/v1/send-template", new { phone = "919876543210", template_name = "shipping_update" });
        var quickSend = await tenant.Client.GetAsync("/api/v1/quick-send?phone=919876543210&template=shipping_update");

        Assert.Equal("shipping_update", (await post.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("template").GetString());
        Assert.Equal("shipping_update", (await quickSend.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("template").GetString());
    }

    [Fact]
    public async Task SendOtpSendsTheCallersOwnCode()
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-otp", new { phone = "919876543210", template_name = "otp_verification", otp = "4829" });

        Assert.Equal("4829", (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("otp").GetString());
    }

    [Fact]
    public async Task QuickSendWithATemplateTakesTheKeyFromTheUrl()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var anonymous = factory.CreateClient();

        var response = await anonymous.GetAsync(
            $"/api/v1/quick-send?apikey={tenant.Key}&phone=919876543210&template=order_confirmation&lang=en&params=Rahul,ORD-12345,₹1499");

        var json = await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(["success", "message_id", "phone", "template", "delivery_status", "note"], json.PropertyNames());
        Assert.Equal("order_confirmation", json.GetProperty("template").GetString());
    }

    [Fact]
    public async Task QuickSendWithATemplateAndAMessageSendsTheTemplate()
    {
        // A key allowed templates only, no customer message (no window): the message is not what is sent.
        var tenant = await factory.CreateSendingTenantAsync(permissions: ["send_template"]);

        var response = await tenant.Client.GetAsync(
            "/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=Rahul,ORD-1,x&message=Shipped");

        var json = await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("order_confirmation", json.GetProperty("template").GetString());
    }

    [Theory]
    // Every row of the docs' "Phone Number Format" table, through a real send.
    [InlineData("9876543210", "919876543210")]
    [InlineData("+91-9876543210", "919876543210")]
    [InlineData("+91 98765 43210", "919876543210")]
    [InlineData("919876543210", "919876543210")]
    [InlineData("+14155551234", "14155551234")]
    public async Task SendsEchoTheNormalizedPhone(string phone, string normalized)
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone, template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "₹1" } });

        Assert.Equal(normalized, (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("phone").GetString());
    }

    [Fact]
    public async Task ASendWithoutAContentTypeIsStillReadAsJson()
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsync("/api/v1/send-template",
            new StringContent("""{"phone":"919876543210","template_name":"order_confirmation","body_params":["a","b","c"]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task EachAcceptedSendIsARowWithMetasId()
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var json = await (await tenant.Client.PostAsJsonAsync("/api/v1/send-otp", new { phone = "919876543210", template_name = "otp_verification" }))
            .ReadJsonAsync(HttpStatusCode.OK);

        var wamid = json.GetProperty("message_id").GetString();
        await factory.WithDbAsync(async db =>
        {
            var message = await db.Messages.SingleAsync(m => m.Wamid == wamid);
            Assert.Equal(tenant.BusinessId, message.BusinessId);
            Assert.Equal(tenant.KeyId, message.ApiKeyId);
            Assert.Equal("otp", message.Kind);
            Assert.Equal("success", message.ApiStatus);
            Assert.Equal("otp_verification", message.TemplateName);
        });
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesTheSendBodies()
    {
        using var client = factory.CreateClient();

        var document = await (await client.GetAsync("/swagger/v1/swagger.json")).ReadJsonAsync(HttpStatusCode.OK);

        var body = document.GetProperty("paths").GetProperty("/api/v1/send-template").GetProperty("post").GetProperty("requestBody")
            .GetProperty("content").GetProperty("application/json");
        Assert.Equal("order_confirmation", body.GetProperty("example").GetProperty("template_name").GetString());
        Assert.True(body.GetProperty("schema").TryGetProperty("$ref", out _));
        var quickSend = document.GetProperty("paths").GetProperty("/api/v1/quick-send").GetProperty("get").GetProperty("parameters");
        Assert.Contains(quickSend.EnumerateArray(), p => p.GetProperty("name").GetString() == "phone");
        Assert.Contains(quickSend.EnumerateArray(), p => p.GetProperty("name").GetString() == "params");
    }
}
