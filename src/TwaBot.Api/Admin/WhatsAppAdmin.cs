using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Businesses;
using TwaBot.Api.Data;
using TwaBot.Api.Errors;
using TwaBot.Api.Meta;
using TwaBot.Api.OpenApi;
using TwaBot.Api.Sandbox;

namespace TwaBot.Api.Admin;

/// <summary>Connect a business to its WhatsApp Business Account on Meta (or to the sandbox), or disconnect it.</summary>
internal static class WhatsAppAdmin
{
    private const int MaxTokenLength = 2048;

    /// <summary>Meta's numbers named in a refusal of a phone_number_id: enough to pick from, short enough to read.</summary>
    private const int MaxNumbersNamed = 20;

    /// <summary>
    /// Outside the admin writes' gate (<see cref="AdminWritesTakeTheWriteGate"/>): a connect asks Meta first, which may
    /// take as long as Meta's timeout, and every send's commit waits on that gate. Both calls take their business's turn
    /// (<see cref="AdminTurns.Connects"/>) and then the gate to write, in that order, so neither waits for the other's gate.
    /// </summary>
    public static void MapWhatsAppAdmin(this RouteGroupBuilder admin)
    {
        admin.MapPut("/businesses/{id:long}/whatsapp", Connect).WithName("AdminConnectWhatsApp")
            .WithSummary("Connect the business's WhatsApp number (Meta's ids and access token, checked with Meta, or the sandbox emulator).").ReadsJsonBody()
            .ProducesErrors(StatusCodes.Status409Conflict, // the phone_number_id is another business's
                StatusCodes.Status429TooManyRequests, StatusCodes.Status502BadGateway, StatusCodes.Status503ServiceUnavailable); // Meta's check
        admin.MapDelete("/businesses/{id:long}/whatsapp", Disconnect).WithName("AdminDisconnectWhatsApp")
            .WithSummary("Disconnect the business's WhatsApp number; its sends answer WHATSAPP_NOT_CONNECTED.")
            .NeverAnswers(StatusCodes.Status400BadRequest);
    }

    private static async Task<Results<Ok<BusinessResponse>, ApiError>> Connect(
        long id, ConnectWhatsAppRequest? request, MetaClient meta, [AsParameters] AdminServices services, [FromServices] IHostEnvironment environment,
        CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return ApiErrors.MissingBody();
        }

        return await services.Turns.Connects.OneAtATimeAsync(id, () => ConnectAsync(id, request, meta, services, environment, cancellationToken), cancellationToken);
    }

    private static async Task<Results<Ok<BusinessResponse>, ApiError>> ConnectAsync(
        long id, ConnectWhatsAppRequest request, MetaClient meta, AdminServices services, IHostEnvironment environment, CancellationToken cancellationToken)
    {
        string? metasDisplayNumber = null;
        if (request.Sandbox != true && !services.Mode.IsSandbox)
        {
            // The checks that cost no call first; they are made again in turn below, where the row is written.
            if (await CheckAsync(id, request, services, cancellationToken) is { } invalid)
            {
                return invalid;
            }

            var asked = await AskMetaAsync(request, meta, cancellationToken);
            if (asked.Error is { } refused)
            {
                AdminLog.ConnectRefused(services.Log, id, request.PhoneNumberId!, request.WabaId!, refused.Body.Field ?? refused.Body.ErrorCode);
                return refused;
            }

            metasDisplayNumber = asked.DisplayPhoneNumber;
        }

        using var turn = await services.Gate.EnterAsync(cancellationToken);
        return await ConnectInTurnAsync(id, request, metasDisplayNumber, services, environment, cancellationToken);
    }

    /// <summary>
    /// A live connect's business, fields and number's owner, as the connect in turn checks them (without encrypting the
    /// token it may not keep); null when all pass.
    /// </summary>
    private static async Task<ApiError?> CheckAsync(long id, ConnectWhatsAppRequest request, AdminServices services, CancellationToken cancellationToken)
    {
        if (await BusinessesAdmin.Find(services, id, cancellationToken) is null)
        {
            return ApiErrors.BusinessNotFound(id);
        }

        return LiveFieldsError(request) ?? await TakenByAnotherAsync(id, request.PhoneNumberId!, services, cancellationToken);
    }

    private static async Task<Results<Ok<BusinessResponse>, ApiError>> ConnectInTurnAsync(long id, ConnectWhatsAppRequest request,
        string? metasDisplayNumber, AdminServices services, IHostEnvironment environment, CancellationToken cancellationToken)
    {
        // Read again: another write may have come in while Meta was asked, and what was read before is tracked as it was.
        services.Db.ChangeTracker.Clear();
        var business = await BusinessesAdmin.Find(services, id, cancellationToken);
        if (business is null)
        {
            return ApiErrors.BusinessNotFound(id);
        }

        var connection = Wanted(request, business, services, environment);
        if (connection.Error is { } error)
        {
            return error;
        }

        var wanted = connection.Value!;
        if (await TakenByAnotherAsync(id, wanted.PhoneNumberId, services, cancellationToken) is { } taken)
        {
            return taken;
        }

        // One the admin gave is kept as given; otherwise the number as Meta lists it, so the dashboard shows which it is.
        wanted.DisplayPhoneNumber ??= metasDisplayNumber;
        var heldSince = business.WhatsApp is { } held && held.PhoneNumberId == wanted.PhoneNumberId ? held.ConnectedAt : (DateTime?)null;
        // The old connection goes and the new one comes in one transaction: a failed connect disconnects nothing.
        await using var transaction = await services.Db.Database.BeginAllOrNothingAsync(cancellationToken);
        if (business.WhatsApp is { } existing)
        {
            if (existing.PhoneNumberId == wanted.PhoneNumberId)
            {
                // The same number again (a new token, a sandbox reconnect): nothing is let go, and the number the
                // business let go before keeps reaching it.
                services.Db.WhatsAppConnections.Remove(existing);
            }
            else
            {
                LetGo(business, existing, services);
            }

            await services.Db.SaveChangesAsync(cancellationToken);
        }

        // The number is this business's now: one that let it go before no longer takes its webhooks, even once this
        // business lets it go in turn and then another number (which is all a business remembers).
        await services.Db.Businesses.Where(b => b.FormerPhoneNumberId == wanted.PhoneNumberId && b.Id != id)
            .ExecuteUpdateAsync(b => b.SetProperty(former => former.FormerPhoneNumberId, (string?)null), cancellationToken);

        wanted.BusinessId = id;
        // Since when the number is this business's: a new token for it moves nothing (Meta's reports of other businesses'
        // messages sent meanwhile stay out of its reach, StatusReports).
        wanted.ConnectedAt = heldSince ?? services.Now;
        // Unchecked (the sandbox mode's connects), the same token again is still the token Meta refused: its mark stays with
        // the new row. One Meta accepted just now is not refused (MetaClient.ListPhoneNumbersAsync ended its mark).
        wanted.TokenRefusedAt = services.TokenRefusals.RefusedAt(MetaConnection.Open(wanted, services.Tokens));
        business.WhatsApp = wanted;
        await services.Db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        AdminLog.Connected(services.Log, id, wanted.PhoneNumberId, wanted.WabaId, wanted.IsSandbox);
        return TypedResults.Ok(new BusinessResponse(BusinessesAdmin.View(business, services)));
    }

    private static Task<Results<Ok<BusinessResponse>, ApiError>> Disconnect(
        long id, [AsParameters] AdminServices services, CancellationToken cancellationToken) =>
        services.Turns.Connects.OneAtATimeAsync(id, () => DisconnectInTurnAsync(id, services, cancellationToken), cancellationToken);

    private static async Task<Results<Ok<BusinessResponse>, ApiError>> DisconnectInTurnAsync(
        long id, AdminServices services, CancellationToken cancellationToken)
    {
        using var turn = await services.Gate.EnterAsync(cancellationToken);
        var business = await BusinessesAdmin.Find(services, id, cancellationToken);
        if (business is null)
        {
            return ApiErrors.BusinessNotFound(id);
        }

        if (business.WhatsApp is { } existing)
        {
            LetGo(business, existing, services);
            business.WhatsApp = null;
            await services.Db.SaveChangesAsync(cancellationToken);
            AdminLog.Disconnected(services.Log, id, existing.PhoneNumberId);
        }

        return TypedResults.Ok(new BusinessResponse(BusinessesAdmin.View(business, services)));
    }

    private static (WhatsAppConnection? Value, ApiError? Error) Wanted(
        ConnectWhatsAppRequest request, Business business, AdminServices services, IHostEnvironment environment) =>
        request.Sandbox == true ? SandboxConnection(request, business.WhatsApp, services)
        : services.Mode.IsSandbox && !environment.IsDevelopment() ? (null, SandboxLeftOn())
        : LiveConnection(request, services.Tokens);

    private static async Task<ApiError?> TakenByAnotherAsync(long id, string phoneNumberId, AdminServices services, CancellationToken cancellationToken)
    {
        var takenBy = await services.Db.WhatsAppConnections
            .Where(w => w.PhoneNumberId == phoneNumberId && w.BusinessId != id)
            .Select(w => (long?)w.BusinessId)
            .FirstOrDefaultAsync(cancellationToken);
        // Webhooks are routed by phone_number_id, so it can belong to one business only.
        return takenBy is null ? null : ApiErrors.Conflict($"phone_number_id {phoneNumberId} is already connected to another business.");
    }

    /// <summary>
    /// Asks Meta for the WABA's numbers with the given token: it knows the token, the WABA and the number, or the
    /// answer says which of them it refused (the field to correct), or that it could not be asked. Meta's display number
    /// for the phone_number_id comes back, when it lists one that fits the field.
    /// </summary>
    private static async Task<(string? DisplayPhoneNumber, ApiError? Error)> AskMetaAsync(
        ConnectWhatsAppRequest request, MetaClient meta, CancellationToken cancellationToken)
    {
        var (phoneNumberId, wabaId) = (request.PhoneNumberId!, request.WabaId!);
        var listed = await meta.ListPhoneNumbersAsync(new MetaConnection(phoneNumberId, wabaId, request.AccessToken!.Trim()), cancellationToken);
        if (listed.Failure is { } failure)
        {
            return (null, MetaAdminAnswers.Unanswered(failure, "the connection was not changed") ?? failure.Error switch
            {
                { IsAuthorization: true } error => ApiErrors.Validation("access_token",
                    $"Meta refused this access token (code {error.Code}{Said(error.Message)}); nothing was changed. "
                    + "Give a token Meta issued for this WABA, with whatsapp_business_management and whatsapp_business_messaging."),
                { } error => ApiErrors.Validation("waba_id",
                    $"Meta does not know WABA {wabaId}, or this token cannot read it (code {error.Code}{Said(error.Details ?? error.Message)}); nothing was changed."),
                null => ApiErrors.MetaRequestUnavailable("the connection was not changed"),
            });
        }

        var numbers = listed.Value!.Where(n => n.Id.Length > 0).ToList();
        if (numbers.FirstOrDefault(n => n.Id == phoneNumberId) is { } number)
        {
            var display = number.DisplayPhoneNumber is { } shown
                && AdminRules.OptionalLine("display_phone_number", shown, AdminRules.MaxDisplayPhoneNumber) is null ? shown : null;
            return (display, null);
        }

        return (null, ApiErrors.Validation("phone_number_id", numbers.Count == 0
            ? $"Meta lists no phone number in WABA {wabaId}, so phone_number_id {phoneNumberId} is not one of its numbers; nothing was changed. "
                + "Add and register the number in WhatsApp Manager first."
            : $"Meta lists no phone number {phoneNumberId} in WABA {wabaId}; nothing was changed. Its numbers: "
                + string.Join(", ", numbers.Take(MaxNumbersNamed).Select(n => n.DisplayPhoneNumber is { } shown ? $"{n.Id} ({shown})" : n.Id))
                + (numbers.Count > MaxNumbersNamed ? $" and {numbers.Count - MaxNumbersNamed} more." : ".")));
    }

    private static string Said(string? text) => string.IsNullOrWhiteSpace(text) ? "" : ": " + text.Trim().TrimEnd('.');

    /// <summary>
    /// Removes the connection, remembering its number: webhooks Meta sends for it later (statuses of messages
    /// already sent, a customer's STOP) are still this business's while no other business connects it.
    /// </summary>
    private static void LetGo(Business business, WhatsAppConnection existing, AdminServices services)
    {
        services.Db.WhatsAppConnections.Remove(existing);
        business.FormerPhoneNumberId = existing.PhoneNumberId;
        business.DisconnectedAt = services.Now;
    }

    private static ApiError? LiveFieldsError(ConnectWhatsAppRequest request) =>
        AdminRules.Digits("phone_number_id", request.PhoneNumberId) ?? AdminRules.Digits("waba_id", request.WabaId)
        ?? AdminRules.AccessToken(request.AccessToken, MaxTokenLength)
        ?? AdminRules.OptionalLine("display_phone_number", request.DisplayPhoneNumber, AdminRules.MaxDisplayPhoneNumber);

    private static (WhatsAppConnection? Value, ApiError? Error) LiveConnection(ConnectWhatsAppRequest request, AccessTokenProtector tokens)
    {
        if (LiveFieldsError(request) is { } error)
        {
            return (null, error);
        }

        return (new WhatsAppConnection
        {
            PhoneNumberId = request.PhoneNumberId!,
            WabaId = request.WabaId!,
            ProtectedAccessToken = tokens.Protect(request.AccessToken!.Trim()),
            DisplayPhoneNumber = AdminRules.Trimmed(request.DisplayPhoneNumber), // blank: Meta's, below
        }, null);
    }

    /// <summary>
    /// A connection to the in-process emulator: Meta-looking ids and a throwaway token. Reconnecting a
    /// business already on the sandbox keeps its ids and token (unless new ids are given), so the emulated account
    /// keeps the templates submitted to it and the business's approved templates go on sending.
    /// </summary>
    private static (WhatsAppConnection? Value, ApiError? Error) SandboxConnection(
        ConnectWhatsAppRequest request, WhatsAppConnection? current, AdminServices services)
    {
        if (!services.Mode.IsSandbox)
        {
            return (null, ApiErrors.Validation("sandbox", "sandbox connections are only available when the server runs in sandbox mode."));
        }

        if (request.AccessToken is not null)
        {
            // It would be dropped without a word: a mix of both forms is more likely a mistake than a wish.
            return (null, ApiErrors.Validation("access_token", "a sandbox connection makes its own token: leave access_token out, or leave sandbox out to connect to Meta."));
        }

        // Given ids must look like Meta's (digits): the Meta client puts them into request paths.
        if ((OptionalDigits("phone_number_id", request.PhoneNumberId) ?? OptionalDigits("waba_id", request.WabaId)
            ?? AdminRules.OptionalLine("display_phone_number", request.DisplayPhoneNumber, AdminRules.MaxDisplayPhoneNumber)) is { } error)
        {
            return (null, error);
        }

        return (new WhatsAppConnection
        {
            PhoneNumberId = request.PhoneNumberId ?? (current is { IsSandbox: true } ? current.PhoneNumberId : RandomDigits(15)),
            WabaId = request.WabaId ?? (current is { IsSandbox: true } ? current.WabaId : RandomDigits(15)),
            // The same token too (if it can be read): sends already on their way to the emulator would be refused with a new one.
            ProtectedAccessToken = current is { IsSandbox: true } && request.PhoneNumberId is null && request.WabaId is null
                && services.Tokens.CanRead(current)
                ? current.ProtectedAccessToken
                : services.Tokens.Protect(SandboxToken.New()),
            DisplayPhoneNumber = AdminRules.Trimmed(request.DisplayPhoneNumber) ?? WhatsAppConnection.SandboxDisplayPhoneNumber,
            IsSandbox = true,
        }, null);
    }

    /// <summary>
    /// The sandbox still on where the operator is going live: the emulator would take the Meta connection and answer
    /// that Meta knows neither id, which sends the operator looking for a mistake in the ids. (Development keeps
    /// such connections, which exercise the emulator's answers to numbers it does not know.)
    /// </summary>
    private static ApiError SandboxLeftOn() => ApiErrors.Validation("sandbox",
        "this server runs in sandbox mode (TwaBot:Sandbox:Enabled=true), so its calls go to the Meta emulator, never to Meta: "
        + "to go live, set TwaBot:Sandbox:Enabled=false (or remove it) and restart; to try the sandbox, connect with {\"sandbox\": true}.");

    private static ApiError? OptionalDigits(string field, string? value) => value is null ? null : AdminRules.Digits(field, value);

    private static string RandomDigits(int length) => "1" + RandomNumberGenerator.GetString("0123456789", length - 1);
}
