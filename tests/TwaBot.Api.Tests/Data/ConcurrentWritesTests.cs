using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Serilog.Events;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Tests.Webhooks;

namespace TwaBot.Api.Tests.Data;

/// <summary>SQLite has one writer: sends and webhook deliveries arriving together take turns, none fails on a lock.</summary>
public class ConcurrentWritesTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task TwoHundredSendsAndTwoHundredWebhooksAtOnceAreAllCountedWithoutALockError()
    {
        var tenant = await factory.CreateSendingTenantAsync(plan: "Growth");
        string phoneNumberId = "";
        await factory.WithDbAsync(async db => phoneNumberId =
            (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == tenant.BusinessId)).PhoneNumberId);

        // Last four digits 6000–6199: clear of the sandbox's magic numbers. Each accepted send also brings the
        // emulator's status webhooks, so the processor writes while the sends do.
        var sends = Enumerable.Range(0, 200).Select(i => tenant.Client.PostAsJsonAsync("/api/v1/send-template", new
        {
            phone = "9198765" + (16000 + i).ToString(CultureInfo.InvariantCulture),
            template_name = "order_confirmation",
            body_params = new[] { "Rahul", "ORD-1", "Rs. 1" },
        }));
        var webhooks = Enumerable.Range(0, 200).Select(i =>
        {
            var from = "9197765" + (16000 + i).ToString(CultureInfo.InvariantCulture);
            return factory.PostWebhookAsync(MetaPayloads.Delivery(MetaPayloads.Entry(MetaPayloads.MessagesChange(phoneNumberId,
                messages: [MetaPayloads.Text($"wamid.concurrent-{i}", from, "Hi", factory.Clock.GetUtcNow())]))));
        });
        var responses = await Task.WhenAll(sends.Concat(webhooks));
        await factory.SettleStatusesAsync();
        await factory.ApplyWebhooksAsync();

        var sent = responses[..200];
        Assert.Equal(150, sent.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.Equal(50, sent.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests));
        Assert.All(responses[200..], r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        await factory.WithDbAsync(async db =>
        {
            Assert.Equal(150, await db.Messages.CountAsync(m => m.ApiKeyId == tenant.KeyId));
            Assert.Equal(150, await db.Messages.CountAsync(m => m.ApiKeyId == tenant.KeyId && m.DeliveryStatus == "read"));
            Assert.Equal(200, await db.InboundMessages.CountAsync(m => m.BusinessId == tenant.BusinessId));
        });
        Assert.DoesNotContain(factory.Logs.Events, e => e.Level >= LogEventLevel.Warning);
        Assert.DoesNotContain("locked", factory.Logs.AllText(), StringComparison.OrdinalIgnoreCase);
    }
}
