using System.Net;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Tests.Infrastructure;
using static TwaBot.Api.Tests.Webhooks.MetaPayloads;

namespace TwaBot.Api.Tests.Webhooks;

/// <summary>
/// Signed deliveries in Meta's shape with random parts replaced by anything JSON can carry, from a fixed
/// seed so a failure replays. The processor must take every one of them without failing its pass
/// (a failed pass leaves every later delivery waiting behind it), and a good delivery after them is applied.
/// </summary>
public class WebhookFuzzTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(1_776_000_000);

    [Fact]
    public async Task DeliveriesWithRandomPartsNeverStopTheProcessorAndTheNextGoodOneIsApplied()
    {
        var businessId = await factory.CreateBusinessAsync();
        var phoneNumberId = await factory.ConnectWhatsAppAsync(businessId);
        var random = new Random(20261201);

        for (var i = 0; i < 150; i++)
        {
            var delivery = Realistic(phoneNumberId, i);
            for (var mutations = random.Next(1, 4); mutations > 0; mutations--)
            {
                Mutate(random, delivery);
            }

            var response = await factory.PostWebhookAsync(delivery.ToJsonString());
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await factory.ApplyWebhooksAsync(); // throws if a pass fails
        await factory.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId,
            messages: [Text("wamid.after-the-fuzz", "919812345678", "STOP", T0)], contacts: [Contact("919812345678", "Sheena")]))));
        await factory.ApplyWebhooksAsync();

        await factory.WithDbAsync(async db =>
        {
            Assert.True(await db.InboundMessages.AnyAsync(m => m.Wamid == "wamid.after-the-fuzz"));
            Assert.True(await db.Suppressions.AnyAsync(s => s.BusinessId == businessId && s.Phone == "919812345678"));
            Assert.False(await db.WebhookEvents.AnyAsync(e => e.AppliedAt == null && e.LastError == null));
        });
    }

    /// <summary>One of Meta's delivery kinds, well formed: statuses (one failed), an inbound message, a preference, a template review.</summary>
    private static JsonObject Realistic(string phoneNumberId, int i) => (i % 4) switch
    {
        0 => Delivery(Entry(MessagesChange(phoneNumberId, statuses:
            [Status($"wamid.fuzz-{i}", "delivered", T0), Status($"wamid.fuzz-{i}", "failed", T0, errorCode: 131026, errorTitle: "Undeliverable")]))),
        1 => Delivery(Entry(MessagesChange(phoneNumberId,
            messages: [Text($"wamid.in-{i}", "919800000001", "Hello", T0)], contacts: [Contact("919800000001", "Asha")]))),
        2 => Delivery(Entry(UserPreference(phoneNumberId, "919800000002", "stop", T0))),
        _ => Delivery(Entry(TemplateStatus("APPROVED", "order_confirmation", "en", 1234))),
    };

    /// <summary>Replaces one node of the tree, chosen at random at any depth, with a random value.</summary>
    private static void Mutate(Random random, JsonNode root)
    {
        var containers = new List<JsonNode>();
        Collect(root, containers);
        var parent = containers[random.Next(containers.Count)];
        var value = Anything(random);
        if (parent is JsonObject obj && obj.Count > 0)
        {
            var key = random.Next(5) == 0 ? "unexpected" : obj.ElementAt(random.Next(obj.Count)).Key;
            obj[key] = random.Next(6) == 0 ? null : value;
            if (random.Next(6) == 0)
            {
                obj.Remove(key);
            }
        }
        else if (parent is JsonArray array && array.Count > 0)
        {
            array[random.Next(array.Count)] = value;
        }
    }

    private static void Collect(JsonNode? node, List<JsonNode> containers)
    {
        switch (node)
        {
            case JsonObject obj:
                containers.Add(obj);
                foreach (var (_, child) in obj)
                {
                    Collect(child, containers);
                }

                break;
            case JsonArray array:
                containers.Add(array);
                foreach (var child in array)
                {
                    Collect(child, containers);
                }

                break;
        }
    }

    private static JsonNode? Anything(Random random) => random.Next(11) switch
    {
        0 => null,
        1 => JsonValue.Create(random.Next(2) == 0),
        2 => JsonValue.Create(random.Next()),
        3 => JsonValue.Create(-random.NextDouble() * 1e300),
        4 => JsonValue.Create("99999999999999"),
        5 => JsonValue.Create(""),
        6 => JsonValue.Create("STOP"),
        7 => new JsonArray(JsonValue.Create(1), null, new JsonObject()),
        8 => new JsonObject { ["id"] = new JsonArray() },
        9 => JsonValue.Create(new string('9', 400)),
        _ => JsonValue.Create("😀\u0000\n\u202E"),
    };
}
