using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Sending;

/// <summary>
/// The last steps before Meta (suppression, the 24-hour window) refusing with the docs' bodies, and the order all the
/// steps run in (SendStepsTests has each earlier step's refusal).
/// </summary>
public class SendStepOrderTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    private static readonly object ValidTemplate = new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } };

    [Theory] // the docs show this body under quick-send; every send answers it
    [InlineData("/api/v1/send-template")]
    [InlineData("/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=a,b,c")]
    public async Task ASuppressedPhoneGetsTheDocsBody(string path)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await SuppressAsync(tenant.BusinessId, "919876543210", "opted_out");

        var response = path.Contains('?', StringComparison.Ordinal)
            ? await tenant.Client.GetAsync(path)
            : await tenant.Client.PostAsJsonAsync(path, ValidTemplate);

        var json = await response.ReadJsonAsync(HttpStatusCode.BadRequest);
        var expected = JsonDocument.Parse("""
            {
              "success": false,
              "error": "Phone 919876543210 is suppressed (opted_out). Message not sent to protect your quality rating.",
              "error_code": "SUPPRESSED",
              "suppression_state": "opted_out"
            }
            """).RootElement;
        Assert.True(JsonElement.DeepEquals(expected, json), json.ToString());
    }

    private const string PostHint = "Call POST /api/v1/send-template or GET /api/v1/quick-send?phone=...&template=... instead.";

    // send-text's body is the docs' own; send-media shows none and answers the docs' general one ("What the 24-hour
    // window means"); the docs print quick-send's hint with "¶ms=": "&params=" as their HTML page shows it.
    [Theory]
    [InlineData("send-text",
        "Recipient is outside the 24-hour customer service window. Free-form text messages can only be delivered within 24 hours of the contact messaging your business. Use a pre-approved template (send-template or quick-send with template=) for re-engagement.",
        PostHint)]
    [InlineData("send-media",
        "Recipient is outside the 24-hour customer service window. Free-form text messages can only be delivered within 24 hours of the contact messaging your business. Use a pre-approved template for re-engagement.",
        PostHint)]
    [InlineData("quick-send",
        "Recipient is outside the 24-hour customer service window. Free-form text messages can only be delivered within 24 hours of the contact messaging your business. Use a pre-approved template for re-engagement.",
        "Call GET /api/v1/quick-send?phone=...&template=<approved_template_name>&params=... instead.")]
    public async Task AFreeFormSendOutsideTheWindowGetsTheDocsBodyExactly(string endpoint, string error, string hint)
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = endpoint switch
        {
            "send-text" => await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "919876543210", message = "Hello" }),
            "send-media" => await tenant.Client.PostAsJsonAsync("/api/v1/send-media",
                new { phone = "919876543210", media_type = "image", media_url = "https://example.com/a.jpg" }),
            _ => await tenant.Client.GetAsync("/api/v1/quick-send?phone=919876543210&message=Your+order+has+been+shipped"),
        };

        var json = await response.ReadJsonAsync(HttpStatusCode.BadRequest);
        var expected = new JsonObject
        {
            ["success"] = false,
            ["error"] = error,
            ["error_code"] = "WINDOW_CLOSED",
            ["session_window"] = new JsonObject { ["open"] = false, ["last_inbound_at"] = null },
            ["hint"] = hint,
        };
        Assert.True(JsonElement.DeepEquals(JsonSerializer.SerializeToElement(expected), json), json.ToString());
    }

    [Fact] // a developer reading the answer in curl or a log sees the docs' hint, not "\u0026template=\u003capproved_template_name\u003e"
    public async Task TheQuickSendHintIsWrittenWithItsAmpersandsAndBracketsAsTheDocsShowThem()
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.GetAsync("/api/v1/quick-send?phone=919876543210&message=Your+order+has+been+shipped");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("\"hint\":\"Call GET /api/v1/quick-send?phone=...&template=<approved_template_name>&params=... instead.\"",
            await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheWindowClosesTwentyFourHoursAfterTheCustomersMessage()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var wroteAt = factory.Clock.GetUtcNow().AddHours(-24).AddSeconds(-1);
        await factory.CustomerWritesAsync(tenant.BusinessId, "919876543210", at: wroteAt);

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "919876543210", message = "Hello" });

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");
        var window = json.GetProperty("session_window");
        Assert.False(window.GetProperty("open").GetBoolean());
        Assert.Equal(wroteAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'.000Z'", System.Globalization.CultureInfo.InvariantCulture),
            window.GetProperty("last_inbound_at").GetString());
    }

    [Fact]
    public async Task AMessageExactlyTwentyFourHoursOldNoLongerOpensTheWindow()
    {
        // The window's edge belongs to the closed side: Meta counts 24 hours, not 24 hours and a moment. On a whole second,
        // as Meta's timestamps are: else the message would be 24 hours and the clock's fraction of a second old.
        var tenant = await factory.CreateSendingTenantAsync();
        factory.Clock.Advance(TimeSpan.FromTicks(TimeSpan.TicksPerSecond - factory.Clock.GetUtcNow().Ticks % TimeSpan.TicksPerSecond));
        await factory.CustomerWritesAsync(tenant.BusinessId, "919876543210", at: factory.Clock.GetUtcNow().AddHours(-24));

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "919876543210", message = "Hello" });

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");
    }

    [Fact]
    public async Task EveryFreeFormSendGoesUntilTwentyFourHoursAfterTheCustomersMessage()
    {
        // The docs: "within 24 hours of the recipient's last message", so a message 23:59:59 old still opens it.
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.CustomerWritesAsync(tenant.BusinessId, "919876543210", at: factory.Clock.GetUtcNow().AddHours(-24).AddSeconds(1));

        var text = await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "919876543210", message = "Hello" });
        var media = await tenant.Client.PostAsJsonAsync("/api/v1/send-media",
            new { phone = "919876543210", media_type = "image", media_url = "https://example.com/a.jpg" });
        var quickSend = await tenant.Client.GetAsync("/api/v1/quick-send?phone=919876543210&message=Hello");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK], new[] { text.StatusCode, media.StatusCode, quickSend.StatusCode });
    }

    [Fact]
    public async Task TemplatesWorkOutsideTheWindow()
    {
        var tenant = await factory.CreateSendingTenantAsync();

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template", ValidTemplate);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    // --- Order: a request failing two checks gets the earlier one's answer -------------------

    [Fact]
    public async Task PlanComesBeforeValidation()
    {
        var tenant = await factory.CreateSendingTenantAsync(plan: "Starter");

        var response = await tenant.Client.PostAsync("/api/v1/send-template", new StringContent("{ not json", System.Text.Encoding.UTF8, "application/json"));

        await response.AssertErrorAsync(HttpStatusCode.Forbidden, "PLAN_NOT_ALLOWED");
    }

    [Fact]
    public async Task PlanComesBeforePermission()
    {
        var tenant = await factory.CreateSendingTenantAsync(plan: "Starter", permissions: ["send_otp"]);

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template", ValidTemplate);

        await response.AssertErrorAsync(HttpStatusCode.Forbidden, "PLAN_NOT_ALLOWED");
    }

    [Fact]
    public async Task PermissionComesBeforeValidation()
    {
        var tenant = await factory.CreateSendingTenantAsync(permissions: ["send_otp"]);

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "bad" });

        await response.AssertErrorAsync(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
    }

    [Fact]
    public async Task ValidationComesBeforeTheWhatsAppConnection()
    {
        var (_, client, _) = await factory.CreateTenantAsync();

        var response = await client.PostAsJsonAsync("/api/v1/send-template", new { phone = "bad", template_name = "x" });

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "INVALID_PHONE");
    }

    [Fact]
    public async Task TheConnectionComesBeforeTheTemplate()
    {
        var (_, client, _) = await factory.CreateTenantAsync();

        var response = await client.PostAsJsonAsync("/api/v1/send-template", new { phone = "919876543210", template_name = "wrong_name" });

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");
    }

    [Fact]
    public async Task TheTemplateComesBeforeSuppression()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await SuppressAsync(tenant.BusinessId, "919876543210", "blocked");

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template", new { phone = "919876543210", template_name = "wrong_name" });

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
    }

    [Fact]
    public async Task SuppressionComesBeforeTheWindow()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await SuppressAsync(tenant.BusinessId, "919876543210", "undeliverable");

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "919876543210", message = "hi" });

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
    }

    [Fact]
    public async Task ARefusedSendNeverReachesMetaNorLeavesARow()
    {
        var tenant = await factory.CreateSendingTenantAsync();

        await tenant.Client.PostAsJsonAsync("/api/v1/send-template", new { phone = "919876543210", template_name = "wrong_name" });
        await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "919876543210", message = "hi" });

        await factory.WithDbAsync(async db => Assert.False(await db.Messages.AnyAsync(m => m.BusinessId == tenant.BusinessId)));
    }

    private Task SuppressAsync(long businessId, string phone, string state) => factory.WithDbAsync(async db =>
    {
        db.Suppressions.Add(new Api.Conversations.Suppression { BusinessId = businessId, Phone = phone, State = state });
        await db.SaveChangesAsync();
    });
}
