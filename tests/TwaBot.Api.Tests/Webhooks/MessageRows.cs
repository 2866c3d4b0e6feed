using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Conversations;
using TwaBot.Api.Messages;
using TwaBot.Api.Tests.Infrastructure;
using static TwaBot.Api.Tests.Webhooks.MetaPayloads;

namespace TwaBot.Api.Tests.Webhooks;

/// <summary>
/// What the webhook tests start from (a business with a connected number, message rows as sends leave them), how they
/// deliver Meta's status reports, and how they read back the rows that webhooks change.
/// </summary>
internal static class MessageRows
{
    public static async Task<(string PhoneNumberId, long BusinessId)> ConnectedBusinessAsync(this TwaBotApiFactory server)
    {
        var businessId = await server.CreateBusinessAsync();
        return (await server.ConnectWhatsAppAsync(businessId), businessId);
    }

    /// <summary>
    /// A send's row: accepted by Meta with <paramref name="wamid"/>, or still waiting for its answer without one; made
    /// at the server's present time when <paramref name="madeNow"/> (else at the start of time); a new reference unless given.
    /// </summary>
    public static async Task<long> InsertMessageAsync(
        this TwaBotApiFactory server, long businessId, string? wamid, string kind = MessageKinds.Text, long id = 0, bool madeNow = false, string? reference = null)
    {
        await server.WithDbAsync(async db =>
        {
            var message = new Message
            {
                Id = id, BusinessId = businessId, ApiKeyId = 1, Wamid = wamid, Reference = reference ?? MessageReferences.New(), To = "919876543210", Kind = kind,
                ApiStatus = wamid is null ? ApiStatuses.Pending : ApiStatuses.Success,
                CreatedAt = madeNow ? server.Clock.GetUtcNow().UtcDateTime : default,
            };
            db.Messages.Add(message);
            await db.SaveChangesAsync();
            id = message.Id;
        });
        return id;
    }

    /// <summary>Meta's status reports for <paramref name="phoneNumberId"/>, received and applied.</summary>
    public static async Task DeliverStatusesAsync(this TwaBotApiFactory server, string phoneNumberId, params JsonObject[] statuses)
    {
        var response = await server.PostWebhookAsync(Delivery(Entry(MessagesChange(phoneNumberId, statuses: [.. statuses]))));
        response.EnsureSuccessStatusCode();
        await server.ApplyWebhooksAsync();
    }

    /// <summary>Our reference of message <paramref name="id"/>: the callback data its send gave Meta.</summary>
    public static async Task<string> ReferenceAsync(this TwaBotApiFactory server, long id) => (await server.MessageAsync(id)).Reference;

    public static async Task<Message> MessageAsync(this TwaBotApiFactory server, long id)
    {
        Message? message = null;
        await server.WithDbAsync(async db => message = await db.Messages.AsNoTracking().SingleAsync(m => m.Id == id));
        return message!;
    }

    public static async Task<Contact?> ContactAsync(this TwaBotApiFactory server, long businessId, string phone)
    {
        Contact? contact = null;
        await server.WithDbAsync(async db => contact = await db.Contacts.AsNoTracking()
            .SingleOrDefaultAsync(c => c.BusinessId == businessId && c.Phone == phone));
        return contact;
    }
}
