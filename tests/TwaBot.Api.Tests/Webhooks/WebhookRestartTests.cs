using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Messages;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Webhooks;
using static TwaBot.Api.Tests.Webhooks.MetaPayloads;

namespace TwaBot.Api.Tests.Webhooks;

public class WebhookRestartTests
{
    [Fact]
    public async Task EventsStoredButNotAppliedBeforeAStopAreAppliedAfterTheRestart()
    {
        var databasePath = Path.Combine(Path.GetTempPath(), $"twabot-restart-{Guid.NewGuid():N}.db");
        string phoneNumberId;
        long messageId;
        await using (var first = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: databasePath) { DeleteDatabaseOnDispose = false })
        {
            var businessId = await first.CreateBusinessAsync();
            phoneNumberId = await first.ConnectWhatsAppAsync(businessId);
            var message = new Message
            {
                BusinessId = businessId, ApiKeyId = 1, Wamid = "wamid.restart-1", To = "919876543210",
                Kind = MessageKinds.Text, ApiStatus = ApiStatuses.Success,
            };
            await first.WithDbAsync(async db =>
            {
                db.Messages.Add(message);
                await db.SaveChangesAsync();
            });
            messageId = message.Id;
        }

        // The server is down: an event sits in the inbox, stored (acknowledged) but never applied.
        var body = Encoding.UTF8.GetBytes(Delivery(Entry(MessagesChange(phoneNumberId,
            statuses: [Status("wamid.restart-1", "read", DateTimeOffset.FromUnixTimeSeconds(1_776_000_000))]))).ToJsonString());
        await using (var connection = new SqliteConnection($"Data Source={databasePath}"))
        {
            await connection.OpenAsync();
            await using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO webhook_events (received_at, body_sha256, body, attempts) VALUES ($at, $hash, $body, 0)";
            insert.Parameters.AddWithValue("$at", DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
            insert.Parameters.AddWithValue("$hash", SHA256.HashData(body));
            insert.Parameters.AddWithValue("$body", body);
            await insert.ExecuteNonQueryAsync();
        }

        SqliteConnection.ClearAllPools();
        await using var second = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: databasePath);
        _ = second.Server;
        await second.Services.GetRequiredService<WebhookProcessor>().FirstPass.WaitAsync(TimeSpan.FromSeconds(30));

        await second.WithDbAsync(async db =>
        {
            Assert.Equal("read", await db.Messages.Where(m => m.Id == messageId).Select(m => m.DeliveryStatus).SingleAsync());
            Assert.False(await db.WebhookEvents.AnyAsync(e => e.AppliedAt == null));
        });
    }
}
