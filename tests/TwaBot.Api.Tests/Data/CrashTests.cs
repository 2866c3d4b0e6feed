using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Data.Sqlite;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Tests.Webhooks;
using TwaBot.Api.Webhooks;

namespace TwaBot.Api.Tests.Data;

/// <summary>
/// A server killed (SIGKILL, as an out-of-memory kill or a crash) in the middle of sends and webhook deliveries:
/// the database it leaves is intact, every send it answered 200 is in it and counts against the cap after the
/// next start, and every delivery it answered 200 is applied by that start (Meta does not send those again).
/// </summary>
public class CrashTests
{
    private const string AppSecret = "crash-test-app-secret";

    private static readonly Dictionary<string, string> Settings = new()
    {
        ["TwaBot__AdminKey"] = TwaBotApiFactory.AdminKey,
        ["TwaBot__Meta__AppSecret"] = AppSecret,
        ["TwaBot__RateLimits__GlobalPerMinute"] = "1000000",
        ["TwaBot__RateLimits__PerKeyPerMinute"] = "1000000",
    };

    [Fact]
    public async Task AServerKilledDuringSendsAndWebhooksLosesNothingItAnsweredAndLeavesAnIntactDatabase()
    {
        var path = Path.Combine(Path.GetTempPath(), $"twabot-test-{Guid.NewGuid():N}.db");
        var crashed = await ServerProcess.StartAsync(Settings, path);
        try
        {
            var key = crashed.SeededApiKey();
            using var admin = AdminClient(crashed);
            var phoneNumberId = (await (await admin.GetAsync("/admin/v1/businesses/1")).ReadJsonAsync(HttpStatusCode.OK))
                .GetProperty("business").GetProperty("whatsapp").GetProperty("phone_number_id").GetString()!;
            using var client = crashed.CreateClient();
            client.DefaultRequestHeaders.Add("X-API-Key", key);
            var sends = new ConcurrentBag<string>();
            var deliveries = new ConcurrentBag<string>();
            var next = 0;
            var loops = Enumerable.Range(0, 8).Select(_ => UntilGoneAsync(async () =>
                {
                    var response = await SendAsync(client, Interlocked.Increment(ref next));
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        sends.Add((await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("message_id").GetString()!);
                    }
                }))
                .Concat(Enumerable.Range(0, 4).Select(_ => UntilGoneAsync(async () =>
                {
                    var wamid = $"wamid.crash-{Interlocked.Increment(ref next)}";
                    if ((await DeliverAsync(client, phoneNumberId, wamid)).StatusCode == HttpStatusCode.OK)
                    {
                        deliveries.Add(wamid);
                    }
                })))
                .ToArray();
            try
            {
                await Poll.UntilAsync(() => sends.Count >= 40 && deliveries.Count >= 40, "40 sends and 40 deliveries accepted", Poll.SlowWorkLimit);
            }
            catch (TimeoutException slow)
            {
                throw new TimeoutException($"{slow.Message}; only {sends.Count} sends and {deliveries.Count} deliveries were:\n{crashed.Output}", slow);
            }

            await crashed.KillAsync();
            await Task.WhenAll(loops);

            var (integrity, stored, counted) = await ReadDatabaseAsync(path);
            Assert.Equal("ok", integrity);
            Assert.All(sends, wamid => Assert.Contains(wamid, stored)); // answered 200 only once written
            Assert.True(counted >= sends.Count, $"{counted} counted, {sends.Count} accepted");

            await using var restarted = await ServerProcess.StartAsync(Settings, path);
            using var restartedAdmin = AdminClient(restarted);
            var keyId = (await (await restartedAdmin.GetAsync("/admin/v1/businesses/1/api-keys")).ReadJsonAsync(HttpStatusCode.OK))
                .GetProperty("api_keys")[0].GetProperty("id").GetInt64();
            (await restartedAdmin.PatchAsJsonAsync($"/admin/v1/api-keys/{keyId}", new { daily_limit = counted })).EnsureSuccessStatusCode();
            using var restartedClient = restarted.CreateClient();
            restartedClient.DefaultRequestHeaders.Add("X-API-Key", key);

            var json = await (await SendAsync(restartedClient, 0)).AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
            Assert.Equal(counted, json.GetProperty("daily_used").GetInt32());
            // The restarted server applies its inbox in the background; a count could be reached by deliveries cut off unanswered.
            await Poll.UntilAsync(async () => (await ReadColumnAsync(path, "SELECT wamid FROM inbound_messages")).IsSupersetOf(deliveries),
                $"all {deliveries.Count} deliveries answered 200 to be applied");
        }
        finally
        {
            await crashed.DisposeAsync();
        }
    }

    private static HttpClient AdminClient(ServerProcess server)
    {
        var client = server.CreateClient();
        client.DefaultRequestHeaders.Add("X-Admin-Key", TwaBotApiFactory.AdminKey);
        return client;
    }

    /// <summary>Runs <paramref name="request"/> again and again until the server is gone.</summary>
    private static async Task UntilGoneAsync(Func<Task> request)
    {
        while (true)
        {
            try
            {
                await request();
            }
            catch (HttpRequestException)
            {
                return;
            }
        }
    }

    /// <summary>A customer's message, as a signed delivery from Meta.</summary>
    private static async Task<HttpResponseMessage> DeliverAsync(HttpClient client, string phoneNumberId, string wamid)
    {
        var body = System.Text.Encoding.UTF8.GetBytes(MetaPayloads.Delivery(MetaPayloads.Entry(MetaPayloads.MessagesChange(phoneNumberId,
            messages: [MetaPayloads.Text(wamid, "919812345671", "Hi", DateTimeOffset.UtcNow)]))).ToJsonString());
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        content.Headers.Add(WebhookSignature.HeaderName, WebhookSignature.Sign(body, AppSecret));
        return await client.PostAsync("/webhooks/meta", content);
    }

    // Numbers ending in 1: clear of the sandbox's magic numbers.
    private static Task<HttpResponseMessage> SendAsync(HttpClient client, int i) => client.PostAsJsonAsync("/api/v1/send-template", new
    {
        phone = "91987" + (1_000_001 + (i * 10)).ToString(CultureInfo.InvariantCulture),
        template_name = "order_confirmation",
        body_params = new[] { "Rahul", "ORD-1", "Rs. 1" },
    });

    /// <summary>What the killed server left: <c>integrity_check</c>'s answer, the wamids stored, the sends that count.</summary>
    private static async Task<(string Integrity, HashSet<string> Wamids, int Counted)> ReadDatabaseAsync(string path)
    {
        var integrity = string.Join(' ', await ReadColumnAsync(path, "PRAGMA integrity_check"));
        var wamids = await ReadColumnAsync(path, "SELECT wamid FROM messages WHERE wamid IS NOT NULL");
        var counted = (await ReadColumnAsync(path, "SELECT id FROM messages WHERE api_status <> 'failed'")).Count;
        return (integrity, wamids, counted);
    }

    private static async Task<HashSet<string>> ReadColumnAsync(string path, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        var values = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            values.Add(Convert.ToString(reader.GetValue(0), CultureInfo.InvariantCulture)!);
        }

        return values;
    }
}
