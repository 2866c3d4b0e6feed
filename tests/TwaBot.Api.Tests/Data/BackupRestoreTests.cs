using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Businesses;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Tests.Meta;
using TwaBot.Api.Tests.Webhooks;
using TwaBot.Api.Webhooks;

namespace TwaBot.Api.Tests.Data;

/// <summary>
/// docs/operations.md's Backups and Restoring, done as written (the same VACUUM INTO statements, the inbox first, then
/// the database, then the key ring) on a live-mode server under sends, status reports and customer messages, then
/// restored into the same paths: what was acknowledged before the backup is all there, once, and the server works.
/// </summary>
public class BackupRestoreTests
{
    private const string Token = "EAAGbackupRestoreToken0123456789";
    private const string PhoneNumberId = "106540352242922";

    private const string Templates = """
        {"data":[{"name":"order_confirmation","language":"en","status":"APPROVED","category":"UTILITY","id":"111",
          "components":[{"type":"BODY","text":"Hi {{1}}, your order {{2}} is confirmed."}]}]}
        """;

    [Fact]
    public async Task ABackupTakenUnderLoadAsDocumentedRestoresEverythingAcknowledgedBeforeIt()
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        using var backups = new TemporaryFolder();
        Directory.CreateDirectory(backups.Path);
        var running = LiveMode.Against(meta);
        running.DeleteDatabaseOnDispose = false;
        var path = running.DatabasePath;
        TwaBotApiFactory? restored = null;
        try
        {
            var businessId = await running.CreateBusinessAsync();
            using (var admin = running.CreateAdminClient())
            {
                (await admin.PutAsJsonAsync($"/admin/v1/businesses/{businessId}/whatsapp",
                    new { phone_number_id = PhoneNumberId, waba_id = MetaPayloads.WabaId, access_token = Token })).EnsureSuccessStatusCode();
                meta.Reply(FakeMetaUpstream.Json(200, Templates));
                (await admin.PostAsync($"/admin/v1/businesses/{businessId}/templates/sync", null)).EnsureSuccessStatusCode();
            }

            var (key, _) = await running.CreateApiKeyAsync(businessId);
            meta.Reply(Enumerable.Range(1, 3000).Select(i => FakeMetaUpstream.Accepted($"wamid.backup-{i}")).ToArray());
            using var client = running.CreateApiClient(key);

            // Kept before the backup: its retry must get the same answer after the restore, not a second message.
            using var idempotent = IdempotentSend();
            var kept = (await (await client.SendAsync(idempotent)).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("message_id").GetString()!;

            // The load: sends, each followed by Meta's "delivered" report, and customers writing.
            var sent = new ConcurrentQueue<string>();
            var reported = new ConcurrentQueue<string>();
            var written = new ConcurrentQueue<string>();
            using var stop = new CancellationTokenSource();
            var next = 0;
            var load = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        var i = Interlocked.Increment(ref next);
                        var wamid = (await (await SendAsync(client, i)).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("message_id").GetString()!;
                        sent.Enqueue(wamid);
                        await DeliverAsync(running, MetaPayloads.MessagesChange(PhoneNumberId,
                            statuses: [MetaPayloads.Status(wamid, "delivered", running.Clock.GetUtcNow(), recipient: Phone(i))]));
                        reported.Enqueue(wamid);
                    }
                }))
                .Concat(Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        var wamid = $"wamid.customer-{Interlocked.Increment(ref next)}";
                        await DeliverAsync(running, MetaPayloads.MessagesChange(PhoneNumberId,
                            messages: [MetaPayloads.Text(wamid, "919812345671", "Hi", running.Clock.GetUtcNow())]));
                        written.Enqueue(wamid);
                    }
                })))
                .ToArray();
            await Poll.UntilAsync(() => sent.Count >= 30 && written.Count >= 30, "the load to get going");

            // Backups, as written, while the load goes on: the inbox, the database, the key ring.
            var sentBefore = sent.ToArray();
            var reportedBefore = reported.ToHashSet(StringComparer.Ordinal);
            var writtenBefore = written.ToArray();
            var inboxBackup = Path.Combine(backups.Path, "twabot.webhook-inbox-1.db");
            // Taken again until the copy holds a delivery not yet moved (the processor may just have emptied the inbox):
            // the case below needs one.
            await Poll.UntilAsync(async () =>
            {
                File.Delete(inboxBackup);
                await BackupSteps.VacuumIntoAsync(WebhookInboxFile.PathBeside(path), inboxBackup);
                return await CountAsync(inboxBackup, "SELECT count(*) FROM webhook_inbox") > 0;
            }, "an inbox copy that holds a delivery not yet moved");
            // The processor moves what the inbox copy holds before the database copy is taken: the case the doc's order
            // is for, which the restore must apply once.
            await Poll.UntilAsync(async () => (await CountAsync(path, "SELECT count(*) FROM inbound_messages")) >= writtenBefore.Length, "the inbox to be moved");
            var databaseBackup = Path.Combine(backups.Path, "twabot-1.db");
            await BackupSteps.VacuumIntoAsync(path, databaseBackup);
            var ringBackup = Path.Combine(backups.Path, "twabot.keys");
            BackupSteps.CopyFolder(KeyRing.FolderFor(null, path, "/"), ringBackup);
            await Poll.UntilAsync(() => sent.Count >= sentBefore.Length + 10, "sends after the backup");

            await stop.CancelAsync();
            await Task.WhenAll(load);
            await running.DisposeAsync(); // a clean stop
            Assert.True(await CountAsync(inboxBackup, "SELECT count(*) FROM webhook_inbox") > 0, "the inbox copy held no delivery");

            // Restoring: delete both databases and their companions, copy the backups in, replace the key ring.
            foreach (var file in new[] { path, WebhookInboxFile.PathBeside(path) })
            {
                foreach (var suffix in new[] { "", "-wal", "-shm" })
                {
                    File.Delete(file + suffix);
                }
            }

            File.Copy(databaseBackup, path);
            File.Copy(inboxBackup, WebhookInboxFile.PathBeside(path));
            Directory.Delete(KeyRing.FolderFor(null, path, "/"), recursive: true);
            BackupSteps.CopyFolder(ringBackup, KeyRing.FolderFor(null, path, "/"));
            restored = LiveMode.Against(meta, databasePath: path);

            using var restoredAdmin = restored.CreateAdminClient();
            using var restoredClient = restored.CreateApiClient(key);
            var whatsApp = (await (await restoredAdmin.GetAsync($"/admin/v1/businesses/{businessId}")).ReadJsonAsync(HttpStatusCode.OK))
                .GetProperty("business").GetProperty("whatsapp");
            Assert.True(whatsApp.GetProperty("connected").GetBoolean());

            await restored.ApplyWebhooksAsync();
            foreach (var wamid in sentBefore)
            {
                var status = await (await restoredClient.GetAsync($"/api/v1/message-status/{wamid}")).ReadJsonAsync(HttpStatusCode.OK);
                // A report acknowledged after the inbox copy may or may not be in the database copy.
                Assert.Contains(status.GetProperty("delivery_status").GetString(),
                    reportedBefore.Contains(wamid) ? new[] { "delivered" } : new[] { "delivered", "sent" });
            }

            var inbound = await ColumnAsync(path, "SELECT wamid FROM inbound_messages");
            Assert.All(writtenBefore, wamid => Assert.Contains(wamid, inbound));
            Assert.Equal(0, await CountAsync(path, "SELECT count(*) FROM (SELECT 1 FROM message_status_events GROUP BY message_id, status HAVING count(*) > 1)"));
            Assert.Equal(0, await CountAsync(path, "SELECT count(*) FROM (SELECT 1 FROM inbound_messages GROUP BY wamid HAVING count(*) > 1)"));

            // The token still decrypts: a send reaches Meta with it. The kept answer is still kept.
            meta.Calls.Clear();
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(restoredClient, 0)).StatusCode);
            Assert.Equal($"Bearer {Token}", Assert.Single(meta.Calls).Authorization);
            using var retry = IdempotentSend();
            var answer = await (await restoredClient.SendAsync(retry)).ReadJsonAsync(HttpStatusCode.OK);
            Assert.Equal(kept, answer.GetProperty("message_id").GetString());
            Assert.Single(meta.Calls);
        }
        finally
        {
            await running.DisposeAsync();
            if (restored is not null)
            {
                await restored.DisposeAsync();
            }

            DatabaseFiles.Delete(path);
        }
    }

    [Fact]
    public async Task ARetryWhoseKeptAnswerARestoredOlderKeyRingCannotReadSendsNothingAndSaysWhatIsKnown()
    {
        using var backups = new TemporaryFolder();
        var running = new TwaBotApiFactory { DeleteDatabaseOnDispose = false };
        var path = running.DatabasePath;
        var ring = KeyRing.FolderFor(null, path, "/");
        var ringBackup = Path.Combine(backups.Path, "twabot.keys");
        TwaBotApiFactory? restored = null;
        try
        {
            var tenant = await running.CreateSendingTenantAsync();
            BackupSteps.CopyFolder(ring, ringBackup);
            // After the ring's backup, the ring gets its next key (Data Protection adds one every 90 days), and the
            // kept answer is encrypted with it.
            var keys = running.Services.GetRequiredService<IKeyManager>();
            var current = keys.GetAllKeys().MaxBy(k => k.ActivationDate)!;
            var newer = keys.CreateNewKey(current.ActivationDate.AddSeconds(1), current.ExpirationDate.AddSeconds(1));
            using var send = SandboxIdempotentSend();
            var sent = await (await tenant.Client.SendAsync(send)).ReadJsonAsync(HttpStatusCode.OK);
            await running.DisposeAsync();

            // The database restored with the older ring: the key of the kept answer is missing.
            Directory.Delete(ring, recursive: true);
            BackupSteps.CopyFolder(ringBackup, ring);
            restored = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: path);
            using var client = restored.CreateApiClient(tenant.Key);
            using var retry = SandboxIdempotentSend();
            var response = await client.SendAsync(retry);

            var answer = await response.AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE");
            Assert.False(response.Headers.Contains("Idempotent-Replayed"));
            Assert.Equal(sent.GetProperty("message_id").GetString(), answer.GetProperty("message_id").GetString());
            var error = answer.GetProperty("error").GetString()!;
            Assert.StartsWith("The answer kept for the send made with Idempotency-Key backup-kept-1 cannot be read", error, StringComparison.Ordinal);
            Assert.Contains("Meta accepted that send, so the message was sent", error, StringComparison.Ordinal);
            Assert.DoesNotContain("interrupted", error, StringComparison.Ordinal);
            var messages = 0;
            await restored.WithDbAsync(async db => messages = await db.Messages.CountAsync());
            Assert.Equal(1, messages); // no second message
            var warning = Assert.Single(restored.Logs.Events, e => e.MessageTemplate.Text.StartsWith("The kept answer", StringComparison.Ordinal));
            Assert.Equal(Serilog.Events.LogEventLevel.Warning, warning.Level);
            Assert.Contains($"has no key \"{newer.KeyId}\"", warning.RenderMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        }
        finally
        {
            await running.DisposeAsync();
            if (restored is not null)
            {
                await restored.DisposeAsync();
            }

            DatabaseFiles.Delete(path);
        }
    }

    private static HttpRequestMessage SandboxIdempotentSend()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/send-template")
        {
            Content = JsonContent.Create(new { phone = Phone(0), template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-kept", "₹1,499" } }),
        };
        request.Headers.Add("Idempotency-Key", "backup-kept-1");
        return request;
    }

    // Numbers ending in 1, one per send.
    private static string Phone(int i) => "91987" + (1_000_001 + (i * 10)).ToString(CultureInfo.InvariantCulture);

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, int i) => client.PostAsJsonAsync("/api/v1/send-template",
        new { phone = Phone(i), template_name = "order_confirmation", body_params = new[] { "Rahul", $"ORD-{i}" } });

    private static HttpRequestMessage IdempotentSend()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/send-template")
        {
            Content = JsonContent.Create(new { phone = Phone(0), template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-kept" } }),
        };
        request.Headers.Add("Idempotency-Key", "backup-kept-1");
        return request;
    }

    /// <summary>A delivery from Meta, signed, that the server must acknowledge.</summary>
    private static async Task DeliverAsync(TwaBotApiFactory server, System.Text.Json.Nodes.JsonObject change) =>
        (await server.PostWebhookAsync(MetaPayloads.Delivery(MetaPayloads.Entry(change)))).EnsureSuccessStatusCode();

    private static async Task<long> CountAsync(string database, string sql) =>
        long.Parse((await ColumnAsync(database, sql)).Single(), CultureInfo.InvariantCulture);

    private static async Task<HashSet<string>> ColumnAsync(string database, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
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
