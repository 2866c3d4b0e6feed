using System.Globalization;
using Serilog.Events;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Logging;

/// <summary>
/// The admin changes that decide who may send and where Meta's webhooks go each leave one Information line
/// naming their ids (a request line's path named neither a new key nor the number connected), and never the key.
/// </summary>
public class AdminChangeLogTests
{
    [Fact]
    public async Task KeysCreatedAndRevokedAndNumbersConnectedAndLetGoAreLoggedByTheirIds()
    {
        await using var server = new TwaBotApiFactory();
        var businessId = await server.CreateBusinessAsync();
        var (key, keyId) = await server.CreateApiKeyAsync(businessId);
        var number = await server.ConnectWhatsAppAsync(businessId, "106540352299001");
        using var admin = server.CreateAdminClient();
        (await admin.DeleteAsync($"/admin/v1/api-keys/{keyId}")).EnsureSuccessStatusCode();
        (await admin.DeleteAsync($"/admin/v1/api-keys/{keyId}")).EnsureSuccessStatusCode(); // already revoked: no second line
        (await admin.DeleteAsync($"/admin/v1/businesses/{businessId}/whatsapp")).EnsureSuccessStatusCode();

        var lines = server.Logs.Events
            .Where(e => e.Level == LogEventLevel.Information
                && e.Properties.TryGetValue("SourceContext", out var source) && source.ToString() == "\"TwaBot.Api.Admin\"")
            .Select(e => e.RenderMessage(CultureInfo.InvariantCulture).Replace("\"", "", StringComparison.Ordinal))
            .ToList();
        Assert.Equal(
            [
                $"API key {keyId} created for business {businessId}",
                $"Business {businessId} connected to WhatsApp number {number} (WABA 102290129340398, sandbox False)",
                $"API key {keyId} of business {businessId} revoked",
                $"Business {businessId} disconnected from WhatsApp number {number}",
            ],
            lines);
        Assert.DoesNotContain(key, server.Logs.AllText(), StringComparison.Ordinal);
    }
}
