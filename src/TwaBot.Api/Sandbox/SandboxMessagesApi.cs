using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TwaBot.Api.Businesses;
using TwaBot.Api.Configuration;
using TwaBot.Api.Data;
using static TwaBot.Api.Sandbox.GraphRequest;

namespace TwaBot.Api.Sandbox;

/// <summary>The emulated send (<c>POST {phone-number-id}/messages</c>): checks the message as Meta does, answers its wamid and reports its statuses by webhook.</summary>
internal static class SandboxMessagesApi
{
    internal static async Task<IResult> SendMessage(
        string phoneNumberId, HttpRequest request, TwaBotDbContext db, AccessTokenProtector tokens, SandboxWebhookSender webhooks,
        IOptions<TwaBotOptions> options, CancellationToken cancellationToken)
    {
        var sandbox = options.Value.Sandbox;
        if (sandbox.GraphLatencyMilliseconds > 0)
        {
            // Real time, not the injected TimeProvider: this stands in for the network, and tests fake that clock.
            await Task.Delay(sandbox.GraphLatencyMilliseconds, cancellationToken);
        }

        var connection = await db.WhatsAppConnections.AsNoTracking()
            .SingleOrDefaultAsync(w => w.PhoneNumberId == phoneNumberId && w.IsSandbox, cancellationToken);
        if (connection is null)
        {
            return GraphErrors.UnknownObject(phoneNumberId, request.Method);
        }

        if (!BearerMatches(request, tokens.Unprotect(connection)))
        {
            return GraphErrors.InvalidToken();
        }

        if (await ReadJsonAsync(request, cancellationToken) is not JsonObject body)
        {
            return GraphErrors.InvalidParameter("The request body must be a JSON object.");
        }

        if (Str(body, "messaging_product") != "whatsapp")
        {
            return GraphErrors.InvalidParameter("messaging_product is required and must be whatsapp.");
        }

        var to = new string((Str(body, "to") ?? "").Where(char.IsAsciiDigit).ToArray());
        if (to.Length == 0)
        {
            return GraphErrors.InvalidParameter("The parameter to is required.");
        }

        if (MagicNumbers.Refusal(to) is { } refusal)
        {
            return refusal;
        }

        var type = Str(body, "type");
        if (await CheckContentAsync(type, body, connection, db, cancellationToken) is { } check)
        {
            return check;
        }

        var waId = SandboxGraphApi.WaIdFor(to);
        var wamid = Wamid.Outbound(waId); // a wamid names the chat by the customer's wa_id, not the number as written (meta-cloud-api.md §7)
        var category = type == "template" ? await SandboxTemplateSends.TemplateCategoryAsync(body, connection, db, cancellationToken) : "service";
        var send = new SandboxSend(connection.WabaId, connection.PhoneNumberId, connection.DisplayPhoneNumber ?? WhatsAppConnection.SandboxDisplayPhoneNumber, wamid, waId,
            Str(body, "biz_opaque_callback_data"), category, NewConversationId());
        // The benchmark's pass-through reference has no database, so its sends must not park statuses in ours.
        if (!(sandbox.BenchmarkReferences && send.CallbackData == BenchmarkReferenceApi.CallbackData))
        {
            webhooks.ReportStatuses(send, MagicNumbers.Statuses(to, category));
        }

        var message = new JsonObject { ["id"] = wamid };
        if (type == "template")
        {
            message["message_status"] = "accepted"; // Meta reports pacing only for templates
        }

        return Results.Json(new JsonObject
        {
            ["messaging_product"] = "whatsapp",
            ["contacts"] = new JsonArray(new JsonObject { ["input"] = Str(body, "to"), ["wa_id"] = waId }),
            ["messages"] = new JsonArray(message),
        });
    }

    /// <summary>Meta's refusal of the message's own object (its text, its media, its template), or null when Meta would take it.</summary>
    private static async Task<IResult?> CheckContentAsync(
        string? type, JsonObject body, WhatsAppConnection connection, TwaBotDbContext db, CancellationToken cancellationToken) => type switch
    {
        "text" => Str(body["text"] as JsonObject, "body") is { Length: > 0 } ? null : GraphErrors.InvalidParameter("text.body is required."),
        "image" or "document" or "video" or "audio" => Str(body[type] as JsonObject, "link") is not null || Str(body[type] as JsonObject, "id") is not null
            ? null
            : GraphErrors.InvalidParameter($"{type}.link or {type}.id is required."),
        "template" => await SandboxTemplateSends.CheckTemplateAsync(body["template"] as JsonObject, connection, db, cancellationToken),
        _ => GraphErrors.UnsupportedType(type),
    };

    /// <summary>The id of the conversation the send's status reports name: 32 random hex digits.</summary>
    private static string NewConversationId() => RandomNumberGenerator.GetHexString(32, lowercase: true);
}
