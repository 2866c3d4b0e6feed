using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.ApiKeys;
using TwaBot.Api.Data;
using TwaBot.Api.Errors;
using TwaBot.Api.Json;
using TwaBot.Api.OpenApi;

namespace TwaBot.Api.Messages;

/// <summary><c>GET /api/v1/message-status/{messageId}</c>: our side (api_status) and Meta's (delivery_status).</summary>
public static class MessageStatusApi
{
    public static RouteGroupBuilder MapMessageStatus(this RouteGroupBuilder api)
    {
        api.MapGet("/message-status/{messageId}", GetStatus)
            .WithName("MessageStatus")
            .NeverAnswers(StatusCodes.Status400BadRequest)
            .WithTags("Sending")
            .WithSummary("The delivery status of a sent message, updated from Meta's delivery webhooks.")
            .WithDescription("messageId is the message_id a send answered: Meta's id (wamid.…), or, for a send whose outcome "
                + "was unknown (502 META_UNAVAILABLE), our own id (twb:…) until Meta's status webhook tells.")
            .ProducesErrors(StatusCodes.Status404NotFound)
            .WithExamples(responses: [(StatusCodes.Status200OK, Examples.Delivered), (StatusCodes.Status200OK, Examples.Failed),
                (StatusCodes.Status404NotFound, Examples.NotFound)]);
        return api;
    }

    private static async Task<Results<Ok<MessageStatusResponse>, ApiError>> GetStatus(
        string messageId, ApiCaller caller, TwaBotDbContext db, CancellationToken cancellationToken)
    {
        // An id stored with a line break or a space by the client's own code would otherwise poll a 404 for ever.
        messageId = messageId.Trim();
        // Another business's message does not exist for this caller: the same 404 as an unknown id. Meta's wamid
        // finds a message, and so does our reference (twb:…) that a send with an unknown outcome answered; such a
        // message answers with its wamid once Meta's status webhook has told it.
        var ofCaller = db.Messages.AsNoTracking().Where(m => m.BusinessId == caller.BusinessId);
        var message = await (MessageReferences.IsReference(messageId)
                ? ofCaller.Where(m => m.Reference == messageId)
                : ofCaller.Where(m => m.Wamid == messageId))
            .Select(m => new MessageStatusResponse(m.Wamid ?? messageId, m.ApiStatus, m.DeliveryStatus, m.SentAt, m.To, m.FailureReason))
            .SingleOrDefaultAsync(cancellationToken);
        return message is null ? ApiErrors.MessageNotFound() : TypedResults.Ok(message);
    }

    private static class Examples
    {
        public const string Delivered = """
            { "success": true, "message_id": "wamid.HBgMOTE5ODc2NTQzMjEw...", "api_status": "success", "delivery_status": "delivered",
              "sent_at": "2026-04-14T10:30:45.000Z", "to": "919876543210" }
            """;

        // The docs' second example: a delivery that failed, and why.
        public const string Failed = """
            { "success": true, "message_id": "wamid.HBgMOTE5ODc2NTQzMjEw...", "api_status": "success", "delivery_status": "failed",
              "sent_at": "2026-04-14T10:30:45.000Z", "to": "919876543210",
              "failure_reason": "Message undeliverable — recipient's phone is not on WhatsApp." }
            """;

        public const string NotFound = """
            { "success": false, "error": "Message not found.", "error_code": "MESSAGE_NOT_FOUND",
              "hint": "Status is available within a few seconds of sending. If message_id is correct, retry shortly." }
            """;
    }
}

/// <summary>
/// The docs' status body; <c>failure_reason</c> appears when delivery failed, Meta refused the send or its outcome is
/// unknown. The descriptions are the docs' tables of the two status fields, for /swagger.
/// </summary>
public sealed record MessageStatusResponse(
    string MessageId,
    [property: AllowedValues(ApiStatuses.Success, ApiStatuses.Failed, ApiStatuses.Pending, ApiStatuses.Unknown)]
    [property: Description("Our side — whether we accepted the send and forwarded it to Meta: success or failed; pending while Meta's "
        + "answer to the send is unknown (502 META_UNAVAILABLE), unknown when no status webhook told within 10 minutes.")]
    string ApiStatus,
    [property: AllowedValues(DeliveryStatuses.Sent, DeliveryStatuses.Delivered, DeliveryStatuses.Read, DeliveryStatuses.Failed, null)]
    [property: Description("Meta side — updated from Meta's delivery webhooks: sent (message handed to Meta, awaiting delivery), "
        + "delivered (delivered to the recipient's phone), read (the recipient has opened the message), failed (delivery failed; "
        + "failure_reason explains why). null while Meta has not taken the message.")]
    string? DeliveryStatus,
    DateTime? SentAt,
    string To,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    [property: Description("In words: why delivery failed (delivery_status failed), why Meta refused the send (api_status failed), "
        + "or why its outcome is unknown (api_status pending, or unknown when that outcome never came). Left out when there is none.")]
    string? FailureReason) : SuccessResponse;
