using System.Text;
using System.Text.Json.Nodes;
using TwaBot.Api.Sandbox;
using TwaBot.Api.Webhooks;

namespace TwaBot.Api.Tests.Sandbox;

/// <summary>The emulator's batched status webhooks: Meta's shape, every report once, grouped by account and number.</summary>
public class StatusBatchingTests
{
    [Fact]
    public void ReportsDueTogetherGoInOneDeliveryGroupedByAccountAndNumber()
    {
        DueReport[] reports =
        [
            Report("waba-a", "phone-1", "wamid.1", "sent"),
            Report("waba-a", "phone-2", "wamid.2", "delivered"),
            Report("waba-b", "phone-3", "wamid.3", "read"),
            Report("waba-a", "phone-1", "wamid.4", "sent"),
        ];

        var delivery = SandboxWebhookSender.StatusDelivery(reports);

        Assert.Equal("whatsapp_business_account", delivery["object"]!.GetValue<string>());
        var entries = delivery["entry"]!.AsArray();
        Assert.Equal(["waba-a", "waba-b"], entries.Select(e => e!["id"]!.GetValue<string>()));
        var accountA = entries[0]!["changes"]!.AsArray();
        Assert.Equal(["phone-1", "phone-2"], accountA.Select(c => c!["value"]!["metadata"]!["phone_number_id"]!.GetValue<string>()));
        Assert.Equal(["wamid.1", "wamid.4"], accountA[0]!["value"]!["statuses"]!.AsArray().Select(s => s!["id"]!.GetValue<string>()));

        // What the receiver reads back: each report once, routed by its own number.
        var parsed = WebhookPayload.Parse(Encoding.UTF8.GetBytes(delivery.ToJsonString()), DateTime.UtcNow);
        Assert.Equal(
            [("phone-1", "wamid.1", "sent"), ("phone-1", "wamid.4", "sent"), ("phone-2", "wamid.2", "delivered"), ("phone-3", "wamid.3", "read")],
            parsed.Statuses.Select(s => (s.PhoneNumberId, s.Wamid, s.Status)));
    }

    [Fact]
    public void ALoneReportIsADeliveryOfOne()
    {
        var delivery = SandboxWebhookSender.StatusDelivery([Report("waba-a", "phone-1", "wamid.1", "sent")]);

        var parsed = WebhookPayload.Parse(Encoding.UTF8.GetBytes(delivery.ToJsonString()), DateTime.UtcNow);
        Assert.Equal("wamid.1", Assert.Single(parsed.Statuses).Wamid);
    }

    private static DueReport Report(string wabaId, string phoneNumberId, string wamid, string status) => new(
        new SandboxSend(wabaId, phoneNumberId, "15550000000", wamid, "919876543210", null, "utility", "conversation-1"),
        new JsonObject { ["id"] = wamid, ["status"] = status, ["timestamp"] = "1776000000", ["recipient_id"] = "919876543210" });
}
