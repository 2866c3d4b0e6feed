using System.Net.Http.Json;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Logging;

/// <summary>
/// At the levels the server logs by default, a customer's personal data stays out of the log: no OTP code (a credential),
/// no text or parameter a business sends, no text or profile name a customer writes, and no customer number (the one
/// place a number shows is the admin API's suppression routes, whose path names it: docs/operations.md, Logs). Every
/// kind of send goes through, with the emulator's refusals and failures too, whose Warning lines name only ids.
/// </summary>
public class PersonalDataLogTests : IAsyncLifetime
{
    private const string Customer = "919812345678";
    private const string ProfileName = "Priyanka Quuxworth";

    private readonly TwaBotApiFactory _factory = new();

    [Fact]
    public async Task NoCodeTextNameOrCustomerNumberIsLoggedAtTheDefaultLevels()
    {
        var tenant = await _factory.CreateSendingTenantAsync();
        using var admin = _factory.CreateAdminClient();
        (await admin.PostAsJsonAsync("/sandbox/v1/inbound",
            new { business_id = tenant.BusinessId, from = Customer, text = "My address is Zebra Lane 42", name = ProfileName })).EnsureSuccessStatusCode();
        await _factory.ApplyWebhooksAsync();

        (await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = Customer, template_name = "order_confirmation", body_params = new[] { "Priyanka", "ORD-FLAMINGO-7", "₹1,499" } })).EnsureSuccessStatusCode();
        (await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = Customer, message = "Parcel PELICAN is shipped" })).EnsureSuccessStatusCode();
        (await tenant.Client.PostAsJsonAsync("/api/v1/send-media",
            new { phone = Customer, media_url = "https://example.com/invoice-GIRAFFE.pdf", media_type = "document", caption = "Invoice WOMBAT" })).EnsureSuccessStatusCode();
        using (var otp = new HttpRequestMessage(HttpMethod.Post, "/api/v1/send-otp"))
        {
            otp.Headers.Add("Idempotency-Key", "otp-1");
            otp.Content = JsonContent.Create(new { phone = Customer, template_name = "otp_verification", otp = "739154" });
            (await tenant.Client.SendAsync(otp)).EnsureSuccessStatusCode();
        }

        (await tenant.Client.GetAsync($"/api/v1/quick-send?phone={Customer}&template=otp_verification&params=551903")).EnsureSuccessStatusCode();
        // Meta failing (0500) and refusing (0047) write Warning lines; a STOP, a suppressed send's 400.
        await tenant.Client.PostAsJsonAsync("/api/v1/send-otp", new { phone = "919800000500", template_name = "otp_verification", otp = "193746" });
        await tenant.Client.PostAsJsonAsync("/api/v1/send-otp", new { phone = "919800000047", template_name = "otp_verification", otp = "928374" });
        await _factory.CustomerWritesAsync(tenant.BusinessId, Customer, "STOP");
        await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = Customer, message = "After the STOP KANGAROO" });
        await _factory.SettleStatusesAsync();

        var logs = _factory.Logs.AllText();
        Assert.Contains("/api/v1/send-otp", logs, StringComparison.Ordinal); // the request lines were captured
        Assert.Contains("Meta refused a call", logs, StringComparison.Ordinal); // and the Warning lines of Meta's refusals
        foreach (var personal in new[]
                 {
                     "739154", "551903", "193746", "928374", "FLAMINGO", "PELICAN", "GIRAFFE", "WOMBAT", "KANGAROO", "Zebra Lane",
                     "Quuxworth", Customer, "919800000500", "919800000047",
                 })
        {
            Assert.DoesNotContain(personal, logs, StringComparison.Ordinal);
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _factory.DisposeAsync();
}
