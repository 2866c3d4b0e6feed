using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Admin;

/// <summary>What the template admin tests read: a sending tenant's WhatsApp account, its order_confirmation's ids, a sync's counts.</summary>
internal static class TenantTemplates
{
    public static int Count(JsonElement json, string name) => json.GetProperty(name).GetInt32();

    public static async Task<string> WabaIdAsync(TwaBotApiFactory server, long businessId)
    {
        var wabaId = "";
        await server.WithDbAsync(async db => wabaId = (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == businessId)).WabaId);
        return wabaId;
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
}
