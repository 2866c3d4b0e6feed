using System.ComponentModel;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.ApiKeys;
using TwaBot.Api.Data;
using TwaBot.Api.Errors;
using TwaBot.Api.Json;
using TwaBot.Api.OpenApi;
using TwaBot.Api.Phones;

namespace TwaBot.Api.Sandbox;

/// <summary>
/// <c>POST /sandbox/v1/inbound</c>: makes a customer message arrive as Meta would send it, through a
/// real signed webhook, to try STOP, the 24-hour window, or an old conversation (<c>timestamp</c>).
/// Behind the admin key: it writes into a business's conversations. Sandbox mode only.
/// </summary>
public static class SandboxInboundApi
{
    public static void MapSandboxInbound(this IEndpointRouteBuilder app)
    {
        app.MapPost("/sandbox/v1/inbound", Deliver)
            .WithName("SandboxInbound")
            .WithTags("Sandbox")
            .WithSummary("Sandbox only: a customer message arrives through a signed webhook.")
            .RequireAuthorization(ApiKeyAuthenticationExtensions.AdminPolicy)
            .WithMetadata(new AdminKeySecurity())
            .ProducesErrors(StatusCodes.Status401Unauthorized, StatusCodes.Status429TooManyRequests) // 429: wrong keys from the address
            .ReadsJsonBody()
            .WithExamples(SeedExamples.InboundRequest, (StatusCodes.Status200OK, SeedExamples.InboundResponse));
    }

    private static async Task<Results<Ok<InboundResponse>, ApiError>> Deliver(
        InboundRequest? request, TwaBotDbContext db, SandboxWebhookSender webhooks, Webhooks.WebhookProcessor processor, TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return ApiErrors.MissingBody();
        }

        if (string.IsNullOrWhiteSpace(request.From))
        {
            return ApiErrors.PhoneRequired("from");
        }

        if (!PhoneNumber.TryNormalize(request.From, out var from))
        {
            return ApiErrors.InvalidPhone("from", request.From);
        }

        if (string.IsNullOrEmpty(request.Text) || Sending.SendValidation.Characters(request.Text) > Sending.SendValidation.MaxTextLength)
        {
            return ApiErrors.Validation("text", $"text is required (at most {Sending.SendValidation.MaxTextLength} characters).");
        }

        if (request.UserId is { } asked && !IsUserId(asked))
        {
            return ApiErrors.Validation("user_id", "user_id must be a business-scoped user id: a country code, a dot, then letters or digits (US.13491208655302741918).");
        }

        // Backdating tries an old conversation; a customer cannot write from the future (and such a
        // message would hold the 24-hour window open for years), beyond the clock skew allowed.
        var latest = (time.GetUtcNow() + AllowedClockSkew).ToUnixTimeSeconds();
        if (request.Timestamp < 0 || request.Timestamp > latest)
        {
            return ApiErrors.Validation("timestamp", $"timestamp must be Unix seconds from 0 to now ({latest - (long)AllowedClockSkew.TotalSeconds}); it backdates the message.");
        }

        var connection = await db.WhatsAppConnections.AsNoTracking()
            .Where(w => w.IsSandbox && (request.PhoneNumberId != null ? w.PhoneNumberId == request.PhoneNumberId : w.BusinessId == request.BusinessId))
            .SingleOrDefaultAsync(cancellationToken);
        if (connection is null)
        {
            return ApiErrors.Validation(request.PhoneNumberId is null ? "business_id" : "phone_number_id",
                "No business with a sandbox WhatsApp connection matches; give business_id or phone_number_id.");
        }

        // Given both, they must agree: the message would otherwise land in another business's conversations.
        if (request.BusinessId is { } businessId && businessId != connection.BusinessId)
        {
            return ApiErrors.Validation("business_id",
                $"phone_number_id {request.PhoneNumberId} belongs to business {connection.BusinessId}, not {businessId}; give one of them, or both of the same business.");
        }

        var at = request.Timestamp is { } seconds ? DateTimeOffset.FromUnixTimeSeconds(seconds) : time.GetUtcNow();
        // The emulator's own BSUID for the number (the one its status webhooks name) unless one is asked for.
        var userId = request.UserId ?? SandboxUserIds.For(connection.WabaId, SandboxGraphApi.WaIdFor(from));
        var (wamid, delivered) = await webhooks.DeliverInboundAsync(
            connection.WabaId, connection.PhoneNumberId, connection.DisplayPhoneNumber ?? Businesses.WhatsAppConnection.SandboxDisplayPhoneNumber, from, request.Name, request.Text, at,
            new SandboxCustomerIds(userId, request.PhoneWithheld == true));
        if (delivered)
        {
            // The receiver only stores the delivery; applying it now means that a send made after this answer finds the
            // 24-hour window open (or the STOP in force), as a client that just made a customer write expects.
            await processor.ProcessPendingAsync(cancellationToken);
        }

        return TypedResults.Ok(new InboundResponse(wamid, userId, delivered));
    }

    private const int MaxUserIdLength = 64;

    private static readonly TimeSpan AllowedClockSkew = TimeSpan.FromMinutes(1);

    /// <summary>A BSUID as Meta writes them: a country code and a dot (<c>US.</c>), then letters and digits only.</summary>
    private static bool IsUserId(string value) =>
        value.Length <= MaxUserIdLength && Webhooks.WebhookPayload.LooksLikeUserId(value) && value.Skip("US.".Length).All(char.IsAsciiLetterOrDigit);
}

/// <summary>A customer's message: who (<c>from</c>), what, to which business, and optionally when (Unix seconds).</summary>
public sealed record InboundRequest(
    [property: Description("The sandbox business the customer writes to (or give phone_number_id).")] long? BusinessId,
    [property: Description("Its sandbox phone_number_id, instead of business_id.")] string? PhoneNumberId,
    [property: System.ComponentModel.DataAnnotations.Required, Description("The customer's phone number.")] string? From,
    [property: System.ComponentModel.DataAnnotations.Required, Description("The message text; STOP or UNSUBSCRIBE as the whole text opts the number out, START or SUBSCRIBE back in; Stop promotions and Resume promotions do so for marketing templates only.")] string? Text,
    [property: Description("The customer's profile name (default Sandbox Customer).")] string? Name,
    [property: Description("When the customer wrote, in Unix seconds (default now): an old one closes the 24-hour window.")] long? Timestamp,
    [property: Description("The customer's business-scoped user id (US.13491208655302741918), carried beside the number as Meta's webhooks do since 2026 (default: the emulator's own for the number, the one its status webhooks name).")] string? UserId = null,
    [property: Description("true: the webhook names the customer by their user_id alone, as Meta does for a customer with a username whose number it withholds; it counts for the number an earlier webhook showed with that user_id (the emulator's status webhooks after a send to it do).")] bool? PhoneWithheld = null);

public sealed record InboundResponse(
    [property: Description("The customer message's id.")] string Wamid,
    [property: Description("The business-scoped user id the webhook named the customer by.")] string UserId,
    [property: Description("true: the webhook was acknowledged and applied, so a send made now finds the window open (or the STOP in force); false: the receiver refused it at each of four tries, about 1.4 s in all, and the server log says why.")] bool Delivered)
    : SuccessResponse;
