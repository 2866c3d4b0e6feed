using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Tests.Meta;
using TwaBot.Api.Tests.Webhooks;

namespace TwaBot.Api.Tests.Admin;

/// <summary>
/// Admin changes made while a business keeps sending: the next request after the change's 200 sees it,
/// through every cache on the way (found keys, per-business lookups), and a send already at Meta keeps
/// its row, its statuses and its message-status for its business.
/// </summary>
public class AdminChangesDuringSendsTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task APlanDowngradedToStarterRefusesTheNextSendOfAKeyInUse()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await (await SendAsync(tenant.Client)).ReadJsonAsync(HttpStatusCode.OK); // the key is now kept in memory

        await factory.AdminPatchAsync($"/admin/v1/businesses/{tenant.BusinessId}", new { plan = "Starter" });

        await (await SendAsync(tenant.Client)).AssertErrorAsync(HttpStatusCode.Forbidden, "PLAN_NOT_ALLOWED");
    }

    [Fact]
    public async Task APermissionTakenAwayRefusesTheNextSendOfAKeyInUse()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await (await SendAsync(tenant.Client)).ReadJsonAsync(HttpStatusCode.OK);

        await factory.AdminPatchAsync($"/admin/v1/api-keys/{tenant.KeyId}", new { permissions = new[] { "send_text" } });

        await (await SendAsync(tenant.Client)).AssertErrorAsync(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
    }

    [Fact]
    public async Task AnExpiryGivenToAKeyInUseIsKeptByItsNextRequest()
    {
        await using var server = new TwaBotApiFactory(); // its own clock, moved below
        var tenant = await server.CreateSendingTenantAsync();
        await (await SendAsync(tenant.Client)).ReadJsonAsync(HttpStatusCode.OK); // kept in memory with no expiry

        await server.AdminPatchAsync($"/admin/v1/api-keys/{tenant.KeyId}", new { expires_at = server.Clock.GetUtcNow().AddSeconds(5).UtcDateTime });
        server.Clock.Advance(TimeSpan.FromSeconds(5));

        await (await SendAsync(tenant.Client)).AssertErrorAsync(HttpStatusCode.Unauthorized, "API_KEY_EXPIRED");
    }

    [Fact]
    public async Task ATemplateASyncRetiresIsRefusedOnTheNextSend()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await (await SendAsync(tenant.Client)).ReadJsonAsync(HttpStatusCode.OK);
        // Meta no longer lists it (the emulator's account loses it), so the sync marks it DELETED.
        await factory.WithDbAsync(async db =>
        {
            var wabaId = (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == tenant.BusinessId)).WabaId;
            await db.SandboxTemplates.Where(t => t.WabaId == wabaId && t.Name == "order_confirmation").ExecuteDeleteAsync();
        });
        using var admin = factory.CreateAdminClient();

        var synced = await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(1, synced.GetProperty("removed").GetInt32());
        await (await SendAsync(tenant.Client)).AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
        // Refused by our check, not by Meta: the emulator would refuse it too, but only after its row was written.
        await factory.WithDbAsync(async db => Assert.Equal(1, await db.Messages.CountAsync(m => m.BusinessId == tenant.BusinessId)));
    }

    [Fact]
    public async Task AnotherNumberConnectedCarriesTheNextSend()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        await (await SendAsync(tenant.Client)).ReadJsonAsync(HttpStatusCode.OK);
        string wabaId = "";
        await factory.WithDbAsync(async db => wabaId = (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == tenant.BusinessId)).WabaId);
        using var admin = factory.CreateAdminClient();

        (await admin.PutAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/whatsapp",
            new { sandbox = true, phone_number_id = "190000000000077", waba_id = wabaId })).EnsureSuccessStatusCode();
        var sent = await (await SendAsync(tenant.Client)).ReadJsonAsync(HttpStatusCode.OK);

        await factory.SettleStatusesAsync();
        var status = await (await tenant.Client.GetAsync($"/api/v1/message-status/{sent.GetProperty("message_id").GetString()}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("read", status.GetProperty("delivery_status").GetString()); // the new number's statuses reach the business
    }

    [Fact]
    public async Task APlanDowngradeCountsTheDaysSendsAlreadyMadeAgainstTheLowerCap()
    {
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:Plans:Growth:DailyLimit"] = "2" });
        var tenant = await server.CreateSendingTenantAsync();
        for (var i = 0; i < 2; i++)
        {
            await (await SendAsync(tenant.Client)).ReadJsonAsync(HttpStatusCode.OK);
        }

        await server.AdminPatchAsync($"/admin/v1/businesses/{tenant.BusinessId}", new { plan = "Growth" });

        var refused = await (await SendAsync(tenant.Client)).AssertErrorAsync((HttpStatusCode)429, "DAILY_LIMIT_REACHED");
        Assert.Equal((2, 2, "Growth"), (refused.GetProperty("daily_limit").GetInt32(), refused.GetProperty("daily_used").GetInt32(),
            refused.GetProperty("plan").GetString()));
    }

    [Fact]
    public async Task ASendAtMetaWhenItsKeyIsRevokedKeepsItsRowStatusesAndMessageStatusForItsBusiness()
    {
        await using var server = new FirstSendHeldAtMeta();
        var tenant = await server.CreateSendingTenantAsync();
        var sending = SendAsync(tenant.Client);
        await server.UnderWayAsync();
        using var admin = server.CreateAdminClient();

        (await admin.DeleteAsync($"/admin/v1/api-keys/{tenant.KeyId}")).EnsureSuccessStatusCode();
        await (await SendAsync(tenant.Client)).AssertErrorAsync(HttpStatusCode.Unauthorized, "API_KEY_REVOKED");
        server.Release.SetResult();
        var sent = await (await sending).ReadJsonAsync(HttpStatusCode.OK);
        await server.SettleStatusesAsync();

        var (newKey, _) = await server.CreateApiKeyAsync(tenant.BusinessId);
        using var newClient = server.CreateApiClient(newKey);
        var status = await (await newClient.GetAsync($"/api/v1/message-status/{sent.GetProperty("message_id").GetString()}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(("success", "read"), (status.GetProperty("api_status").GetString(), status.GetProperty("delivery_status").GetString()));
    }

    [Fact]
    public async Task ASendOnItsWayToTheEmulatorWhenItsSandboxNumberIsDisconnectedIsRefusedAsAnUnknownNumber()
    {
        // README: the emulator's numbers are the sandbox connections; with Meta the send would go out (the test below).
        await using var server = new FirstSendHeldAtMeta();
        var tenant = await server.CreateSendingTenantAsync();
        var sending = SendAsync(tenant.Client);
        await server.UnderWayAsync();
        using var admin = server.CreateAdminClient();

        (await admin.DeleteAsync($"/admin/v1/businesses/{tenant.BusinessId}/whatsapp")).EnsureSuccessStatusCode();
        server.Release.SetResult();

        await (await sending).AssertErrorAsync(HttpStatusCode.BadRequest, "META_REJECTED");
        await server.WithDbAsync(async db =>
            Assert.Equal(("failed", 100), await db.Messages.Where(m => m.BusinessId == tenant.BusinessId)
                .Select(m => ValueTuple.Create(m.ApiStatus, m.FailureCode ?? 0)).SingleAsync()));
    }

    [Fact]
    public async Task ASendAtMetaWhenItsNumberIsDisconnectedKeepsItsRowStatusesAndMessageStatusForItsBusiness()
    {
        const string PhoneNumberId = "106540352242922";
        const string Wamid = "wamid.HBgLOTE5ODc2NTQzMjEwFQIAERgSQUJDREVGMDEyMzQ1Njc4OTAA";
        await using var meta = await FakeMetaUpstream.StartAsync();
        await using var server = LiveMode.Against(meta);
        using var admin = server.CreateAdminClient();
        var businessId = await server.CreateBusinessAsync();
        (await admin.PutAsJsonAsync($"/admin/v1/businesses/{businessId}/whatsapp",
            new { phone_number_id = PhoneNumberId, waba_id = "102290129340398", access_token = "EAAGadminRaceToken0123456789" })).EnsureSuccessStatusCode();
        meta.Reply(FakeMetaUpstream.Json(200, """
            {"data":[{"name":"order_confirmation","language":"en","status":"APPROVED","category":"UTILITY","id":"111",
              "components":[{"type":"BODY","text":"Hi {{1}}, your order {{2}} is confirmed."}]}]}
            """));
        (await admin.PostAsync($"/admin/v1/businesses/{businessId}/templates/sync", null)).EnsureSuccessStatusCode();
        var (key, _) = await server.CreateApiKeyAsync(businessId);
        using var client = server.CreateApiClient(key);
        var held = new HeldAnswer(FakeMetaUpstream.Accepted(Wamid));
        meta.Reply(held.Reply);

        var sending = client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "Rahul", "#1" } });
        await held.ReachedMetaAsync();
        (await admin.DeleteAsync($"/admin/v1/businesses/{businessId}/whatsapp")).EnsureSuccessStatusCode();
        await (await client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "Rahul", "#2" } }))
            .AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");
        held.Release();
        var sent = await (await sending).ReadJsonAsync(HttpStatusCode.OK);
        (await server.PostWebhookAsync(MetaPayloads.Delivery(MetaPayloads.Entry(MetaPayloads.MessagesChange(PhoneNumberId,
            statuses: [MetaPayloads.Status(Wamid, "delivered", server.Clock.GetUtcNow())]))))).EnsureSuccessStatusCode();
        await server.ApplyWebhooksAsync();

        Assert.Equal(Wamid, sent.GetProperty("message_id").GetString());
        var (newKey, _) = await server.CreateApiKeyAsync(businessId);
        using var newClient = server.CreateApiClient(newKey);
        var status = await (await newClient.GetAsync($"/api/v1/message-status/{Wamid}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(("success", "delivered"), (status.GetProperty("api_status").GetString(), status.GetProperty("delivery_status").GetString()));
        await server.WithDbAsync(async db => Assert.Equal(businessId, (await db.Messages.SingleAsync(m => m.Wamid == Wamid)).BusinessId));
    }

    [Fact]
    public async Task ADailyLimitLoweredWhileASendIsAtMetaCountsThatSendAgainstTheNewLimit()
    {
        await using var server = new FirstSendHeldAtMeta();
        var tenant = await server.CreateSendingTenantAsync();
        await server.AdminPatchAsync($"/admin/v1/api-keys/{tenant.KeyId}", new { daily_limit = 5 });
        var sending = SendAsync(tenant.Client);
        await server.UnderWayAsync();

        await server.AdminPatchAsync($"/admin/v1/api-keys/{tenant.KeyId}", new { daily_limit = 1 });
        var refused = await (await SendAsync(tenant.Client)).AssertErrorAsync((HttpStatusCode)429, "DAILY_LIMIT_REACHED");
        Assert.Equal((1, 1), (refused.GetProperty("daily_limit").GetInt32(), refused.GetProperty("daily_used").GetInt32()));
        server.Release.SetResult();
        var answered = await sending;
        await answered.ReadJsonAsync(HttpStatusCode.OK);
        // Its RateLimit headers tell the cap as it is when it is answered: none left of 1, not 4 left of 5.
        Assert.Contains("\"day\";q=1;", Assert.Single(answered.Headers.GetValues("RateLimit-Policy")), StringComparison.Ordinal);
        Assert.StartsWith("\"day\";r=0;", Assert.Single(answered.Headers.GetValues("RateLimit")).Split(", ")[1], StringComparison.Ordinal);

        await server.AdminPatchAsync($"/admin/v1/api-keys/{tenant.KeyId}", new { daily_limit = 2 });
        await (await SendAsync(tenant.Client)).ReadJsonAsync(HttpStatusCode.OK);
        refused = await (await SendAsync(tenant.Client)).AssertErrorAsync((HttpStatusCode)429, "DAILY_LIMIT_REACHED");
        Assert.Equal((2, 2), (refused.GetProperty("daily_limit").GetInt32(), refused.GetProperty("daily_used").GetInt32()));
    }

    [Fact]
    public async Task ASendAtMetaWhenItsPlanGoesToStarterIsAnsweredKeptAndCountedWhenThePlanComesBack()
    {
        await using var server = new FirstSendHeldAtMeta();
        var tenant = await server.CreateSendingTenantAsync();
        var sending = SendAsync(tenant.Client);
        await server.UnderWayAsync();

        await server.AdminPatchAsync($"/admin/v1/businesses/{tenant.BusinessId}", new { plan = "Starter" });
        await (await SendAsync(tenant.Client)).AssertErrorAsync(HttpStatusCode.Forbidden, "PLAN_NOT_ALLOWED");
        server.Release.SetResult();
        var answered = await sending;
        var sent = await answered.ReadJsonAsync(HttpStatusCode.OK);
        await server.SettleStatusesAsync();

        Assert.DoesNotContain("\"day\"", Assert.Single(answered.Headers.GetValues("RateLimit-Policy")), StringComparison.Ordinal); // Starter has no day to show
        // A Starter business still reads: its message-status tells what became of the send.
        var status = await (await tenant.Client.GetAsync($"/api/v1/message-status/{sent.GetProperty("message_id").GetString()}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(("success", "read"), (status.GetProperty("api_status").GetString(), status.GetProperty("delivery_status").GetString()));
        await server.AdminPatchAsync($"/admin/v1/businesses/{tenant.BusinessId}", new { plan = "Pro" });
        await server.AdminPatchAsync($"/admin/v1/api-keys/{tenant.KeyId}", new { daily_limit = 1 });
        var refused = await (await SendAsync(tenant.Client)).AssertErrorAsync((HttpStatusCode)429, "DAILY_LIMIT_REACHED");
        Assert.Equal(1, refused.GetProperty("daily_used").GetInt32());
    }

    [Fact]
    public async Task ASendAtMetaWhenItsBusinessChangesTimeZoneIsAnsweredWithTheNewZonesDay()
    {
        await using var server = new FirstSendHeldAtMeta();
        server.Clock.SetUtcNow(new DateTimeOffset(2026, 4, 14, 12, 0, 0, TimeSpan.Zero)); // 17:30 in Kolkata, 08:00 in New York
        var tenant = await server.CreateSendingTenantAsync();
        var sending = SendAsync(tenant.Client);
        await server.UnderWayAsync();

        await server.AdminPatchAsync($"/admin/v1/businesses/{tenant.BusinessId}", new { time_zone = "America/New_York" });
        server.Release.SetResult();
        var answered = await sending;
        await answered.ReadJsonAsync(HttpStatusCode.OK);

        // 16 hours to New York's midnight, not Kolkata's 6.5, and the send counted on that day.
        Assert.Equal("\"day\";r=4999;t=57600", Assert.Single(answered.Headers.GetValues("RateLimit")).Split(", ")[1]);
    }

    [Fact]
    public async Task AStopArrivingWhileASendToTheCustomerIsAtMetaKeepsThatSendAndStopsTheNext()
    {
        await using var server = new FirstSendHeldAtMeta();
        var tenant = await server.CreateSendingTenantAsync();
        var sending = SendAsync(tenant.Client);
        await server.UnderWayAsync();

        await server.CustomerWritesAsync(tenant.BusinessId, "919876543210", "STOP");
        server.Release.SetResult();
        var sent = await (await sending).ReadJsonAsync(HttpStatusCode.OK);
        await server.SettleStatusesAsync();

        await (await SendAsync(tenant.Client)).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
        var status = await (await tenant.Client.GetAsync($"/api/v1/message-status/{sent.GetProperty("message_id").GetString()}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(("success", "read"), (status.GetProperty("api_status").GetString(), status.GetProperty("delivery_status").GetString()));
        await server.AdminPatchAsync($"/admin/v1/api-keys/{tenant.KeyId}", new { daily_limit = 1 });
        var refused = await (await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543211", template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "₹1" } }))
            .AssertErrorAsync((HttpStatusCode)429, "DAILY_LIMIT_REACHED");
        Assert.Equal(1, refused.GetProperty("daily_used").GetInt32()); // the refused SUPPRESSED send counted nothing
    }

    [Fact]
    public async Task ADailyLimitChangedWhileASendsKeyIsBeingReadIsTheOneItsAnswerTells()
    {
        // The change is saved after the key's row was read but before the request had found it: the request holds the key
        // as it was, so its answer must find it again, or its RateLimit headers describe the old cap.
        await using var server = new ReadInterrupted(sql => sql.Contains("FROM \"api_keys\"", StringComparison.Ordinal)
            && sql.Contains("\"key_hash\" =", StringComparison.Ordinal));
        var tenant = await server.CreateSendingTenantAsync();
        await server.AdminPatchAsync($"/admin/v1/api-keys/{tenant.KeyId}", new { daily_limit = 5 });
        server.WhileTheReadEnds = () => server.AdminPatchAsync($"/admin/v1/api-keys/{tenant.KeyId}", new { daily_limit = 2 });

        var answered = await SendAsync(tenant.Client);

        await answered.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Null(server.WhileTheReadEnds); // the change was made during the send's key read
        Assert.Contains("\"day\";q=2;", Assert.Single(answered.Headers.GetValues("RateLimit-Policy")), StringComparison.Ordinal);
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client) => client.PostAsJsonAsync("/api/v1/send-template",
        new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "₹1" } });
}
