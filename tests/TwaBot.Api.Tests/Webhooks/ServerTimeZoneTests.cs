using System.Net;
using System.Net.Http.Json;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Webhooks;
using static TwaBot.Api.Tests.Webhooks.MetaPayloads;

namespace TwaBot.Api.Tests.Webhooks;

/// <summary>
/// The database keeps UTC whatever the machine's time zone (docs/architecture.md, Data): the server binary, run with the
/// <c>TZ</c> of a machine set to local time, as a server outside Docker often is.
/// </summary>
public sealed class ServerTimeZoneTests
{
    private const string AdminKey = "twb_admin_time_zone_0123456789";
    private const string AppSecret = "time-zone-app-secret-0123456789";

    [Fact]
    public async Task AStopMetaStampedInTheFutureCountsAtItsReceiptAndTheCustomersStartAfterItLiftsIt()
    {
        // Meta's timestamp a day ahead cannot be right, so the STOP counts as of its receipt; on a machine eight hours
        // behind UTC that time was stored as local, eight hours late, and outranked the START the customer wrote after it.
        using var database = new TemporaryDatabase();
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string>
        {
            ["TZ"] = "America/Los_Angeles", ["TwaBot__AdminKey"] = AdminKey, ["TwaBot__Meta__AppSecret"] = AppSecret,
        }, database.Path);
        using var client = server.CreateClient();
        client.DefaultRequestHeaders.Add("X-API-Key", server.SeededApiKey());
        var phoneNumberId = (string)(await database.ScalarAsync("SELECT phone_number_id FROM whatsapp_connections WHERE business_id = 1"))!;
        var wabaId = (string)(await database.ScalarAsync("SELECT waba_id FROM whatsapp_connections WHERE business_id = 1"))!;
        var customer = OrdinaryNumbers.Any();
        var now = DateTimeOffset.UtcNow;

        await PostAsync(client, wabaId, phoneNumberId, Text($"wamid.stop-{Guid.NewGuid():N}", customer, "STOP", now.AddDays(1)));
        await Poll.UntilAsync(async () => await SendAsync(client, customer) is { StatusCode: HttpStatusCode.BadRequest },
            "the STOP to be applied", Poll.SlowWorkLimit);
        var start = $"wamid.start-{Guid.NewGuid():N}";
        await PostAsync(client, wabaId, phoneNumberId, Text(start, customer, "START", now.AddMinutes(1)));
        await Poll.UntilAsync(async () => await database.ScalarAsync($"SELECT count(*) FROM inbound_messages WHERE wamid = '{start}'") is 1L,
            "the START to be applied", Poll.SlowWorkLimit);

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(client, customer)).StatusCode);
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, string phone) => client.PostAsJsonAsync("/api/v1/send-template",
        new { phone, template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "₹1,499" } });

    private static async Task PostAsync(HttpClient client, string wabaId, string phoneNumberId, System.Text.Json.Nodes.JsonObject message)
    {
        var from = message["from"]!.GetValue<string>();
        var body = System.Text.Encoding.UTF8.GetBytes(
            Delivery(Entry(wabaId, MessagesChange(phoneNumberId, messages: [message], contacts: [Contact(from, "Asha")]))).ToJsonString());
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        content.Headers.Add(WebhookSignature.HeaderName, WebhookSignature.Sign(body, AppSecret));
        (await client.PostAsync("/webhooks/meta", content)).EnsureSuccessStatusCode();
    }
}
