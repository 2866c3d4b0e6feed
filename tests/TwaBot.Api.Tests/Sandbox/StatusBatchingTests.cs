using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Sandbox;
using TwaBot.Api.Tests.Infrastructure;
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

    [Fact]
    public async Task ReportsWaitingForAPosterGoAtMostStatusBatchSizeToAPost()
    {
        await using var server = new StatusPostsHeld(batchSize: 2);
        var tenant = await server.CreateSendingTenantAsync();
        // Four sends, one at a time, keep the four posters at the receiver's door; the sent reports of six more wait for them.
        for (var sends = 1; sends <= 4; sends++)
        {
            await SendAsync(tenant);
            await Poll.UntilAsync(() => server.Held == sends, $"poster {sends} to be at the receiver", Poll.SlowWorkLimit);
        }

        for (var sends = 5; sends <= 10; sends++)
        {
            await SendAsync(tenant);
        }

        server.Release.TrySetResult();
        await server.SettleStatusesAsync();

        Assert.Equal(30, server.StatusesPerPost.Sum()); // sent, delivered and read of each send, each once
        Assert.All(server.StatusesPerPost, statuses => Assert.InRange(statuses, 1, 2));
    }

    private static async Task SendAsync(SendingTenant tenant)
    {
        var send = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } });
        await send.ReadJsonAsync(HttpStatusCode.OK);
    }

    /// <summary>A server whose emulator's status POSTs wait at the receiver's door until the test lets them through; each is counted by its reports.</summary>
    private sealed class StatusPostsHeld(int batchSize)
        : TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:Sandbox:StatusBatchSize"] = batchSize.ToString(System.Globalization.CultureInfo.InvariantCulture) })
    {
        private int _held;

        public int Held => Volatile.Read(ref _held);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ConcurrentQueue<int> StatusesPerPost { get; } = new();

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services =>
                services.AddHttpClient(SandboxWebhookSender.HttpClientName).AddHttpMessageHandler(() => new Hold(this)));
        }

        private sealed class Hold(StatusPostsHeld server) : DelegatingHandler
        {
            protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                var delivery = JsonNode.Parse(await request.Content!.ReadAsStringAsync(cancellationToken))!;
                server.StatusesPerPost.Enqueue(delivery["entry"]!.AsArray()
                    .Sum(entry => entry!["changes"]!.AsArray().Sum(change => change!["value"]!["statuses"]?.AsArray().Count ?? 0)));
                Interlocked.Increment(ref server._held);
                await server.Release.Task.WaitAsync(cancellationToken);
                return await base.SendAsync(request, cancellationToken);
            }
        }
    }

    private static DueReport Report(string wabaId, string phoneNumberId, string wamid, string status) => new(
        new SandboxSend(wabaId, phoneNumberId, "15550000000", wamid, "919876543210", null, "utility", "conversation-1"),
        new JsonObject { ["id"] = wamid, ["status"] = status, ["timestamp"] = "1776000000", ["recipient_id"] = "919876543210" });
}
