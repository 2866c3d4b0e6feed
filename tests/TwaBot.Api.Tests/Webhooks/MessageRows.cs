using TwaBot.Api.Messages;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Webhooks;

/// <summary>What the webhook tests start from: a business with a connected number, and message rows as sends leave them.</summary>
internal static class MessageRows
{
    public static async Task<(string PhoneNumberId, long BusinessId)> ConnectedBusinessAsync(this TwaBotApiFactory server)
    {
        var businessId = await server.CreateBusinessAsync();
        return (await server.ConnectWhatsAppAsync(businessId), businessId);
    }

    /// <summary>A send's row: accepted by Meta with <paramref name="wamid"/>, or still waiting for its answer without one.</summary>
    public static async Task<long> InsertMessageAsync(
        this TwaBotApiFactory server, long businessId, string? wamid, string kind = MessageKinds.Text, long id = 0)
    {
        await server.WithDbAsync(async db =>
        {
            var message = new Message
            {
                Id = id, BusinessId = businessId, ApiKeyId = 1, Wamid = wamid, To = "919876543210", Kind = kind,
                ApiStatus = wamid is null ? ApiStatuses.Pending : ApiStatuses.Success,
            };
            db.Messages.Add(message);
            await db.SaveChangesAsync();
            id = message.Id;
        });
        return id;
    }
}
