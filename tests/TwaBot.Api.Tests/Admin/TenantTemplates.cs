using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Tests.Webhooks;

namespace TwaBot.Api.Tests.Admin;

/// <summary>What the template admin tests read: a sending tenant's WhatsApp account, its order_confirmation's ids, a sync's counts; Meta's template events.</summary>
internal static class TenantTemplates
{
    public static int Count(JsonElement json, string name) => json.GetProperty(name).GetInt32();

    public static async Task<string> WabaIdAsync(TwaBotApiFactory server, long businessId)
    {
        var wabaId = "";
        await server.WithDbAsync(async db => wabaId = (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == businessId)).WabaId);
        return wabaId;
    }

    /// <summary>A new sending tenant, its WhatsApp account, and its order_confirmation's ids (ours and Meta's).</summary>
    public static async Task<(SendingTenant Tenant, string WabaId, long TemplateId, long MetaId)> TenantWithOrderConfirmationAsync(
        TwaBotApiFactory server)
    {
        var tenant = await server.CreateSendingTenantAsync();
        var (templateId, metaId) = await OrderConfirmationAsync(server, tenant.BusinessId);
        return (tenant, await WabaIdAsync(server, tenant.BusinessId), templateId, metaId);
    }

    public static async Task<(long Id, long MetaId)> OrderConfirmationAsync(TwaBotApiFactory server, long businessId)
    {
        (long, long) ids = default;
        await server.WithDbAsync(async db =>
        {
            var template = await db.Templates.SingleAsync(t => t.BusinessId == businessId && t.Name == "order_confirmation");
            ids = (template.Id, long.Parse(template.MetaTemplateId!, System.Globalization.CultureInfo.InvariantCulture));
        });
        return ids;
    }

    /// <summary>Meta's template event (one change of the WhatsApp account's entry), dated as Meta dates it, received and applied.</summary>
    public static async Task DeliverTemplateEventAsync(TwaBotApiFactory server, string wabaId, JsonObject change, DateTimeOffset at)
    {
        var entry = MetaPayloads.Entry(wabaId, change);
        entry["time"] = at.ToUnixTimeSeconds();
        await server.PostWebhookAsync(MetaPayloads.Delivery(entry));
        await server.ApplyWebhooksAsync();
    }
}
