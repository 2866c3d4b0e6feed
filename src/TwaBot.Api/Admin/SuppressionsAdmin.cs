using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Conversations;
using TwaBot.Api.Errors;
using TwaBot.Api.Json;
using TwaBot.Api.OpenApi;
using TwaBot.Api.Phones;

namespace TwaBot.Api.Admin;

/// <summary>Add a phone to a business's suppression list, or take it off.</summary>
internal static class SuppressionsAdmin
{
    public static void MapSuppressionsAdmin(this RouteGroupBuilder admin)
    {
        admin.MapPost("/businesses/{id:long}/suppressions", Add).WithName("AdminAddSuppression")
            .WithSummary("Suppress a number (opted_out, blocked or undeliverable): sends to it are refused.").ReadsJsonBody();
        admin.MapGet("/businesses/{id:long}/suppressions/{phone}", Get).WithName("AdminGetSuppression")
            .WithSummary("Read a number's suppression as sends see it.");
        admin.MapDelete("/businesses/{id:long}/suppressions/{phone}", Remove).WithName("AdminRemoveSuppression")
            .WithSummary("Take a number off the suppression list.");
    }

    private static async Task<Results<Created<SuppressionResponse>, Ok<SuppressionResponse>, ApiError>> Add(
        long id, AddSuppressionRequest? request, [AsParameters] AdminServices services, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return ApiErrors.MissingBody();
        }

        if (!await services.Db.Businesses.AnyAsync(b => b.Id == id, cancellationToken))
        {
            return ApiErrors.BusinessNotFound(id);
        }

        if (string.IsNullOrWhiteSpace(request.Phone))
        {
            return ApiErrors.Validation("phone", "phone is required: the number with country code, e.g. 919876543210.");
        }

        if (!PhoneNumber.TryNormalize(request.Phone, out var phone))
        {
            return ApiErrors.InvalidPhone("phone", request.Phone);
        }

        // Any case, as plan and category are read: "Opted_Out" from a spreadsheet is the same state.
        var state = request.State?.Trim().ToLowerInvariant();
        if (state is null || !SuppressionStates.All.Contains(state))
        {
            return ApiErrors.Validation("state", "state must be one of opted_out, blocked, undeliverable.");
        }

        if (AdminRules.OptionalText("reason", request.Reason, AdminRules.MaxReason) is { } badReason)
        {
            return badReason;
        }

        var suppression = await services.Db.Suppressions
            .SingleOrDefaultAsync(s => s.BusinessId == id && s.Phone == phone, cancellationToken);
        var created = suppression is null;
        if (suppression is null)
        {
            suppression = new Suppression { BusinessId = id, Phone = phone, State = state, CreatedAt = services.Now };
            services.Db.Suppressions.Add(suppression);
        }

        suppression.State = state;
        suppression.Reason = request.Reason;
        await services.Db.SaveChangesAsync(cancellationToken);

        var response = new SuppressionResponse(View(suppression));
        return created
            ? TypedResults.Created($"/admin/v1/businesses/{id}/suppressions/{phone}", response)
            : TypedResults.Ok(response);
    }

    /// <summary>One number's suppression (the Location of an add); the number may be written in any accepted form.</summary>
    private static async Task<Results<Ok<SuppressionResponse>, ApiError>> Get(
        long id, string phone, [AsParameters] AdminServices services, CancellationToken cancellationToken)
    {
        if (!await services.Db.Businesses.AnyAsync(b => b.Id == id, cancellationToken))
        {
            return ApiErrors.BusinessNotFound(id);
        }

        if (!PhoneNumber.TryNormalize(phone, out var normalized))
        {
            return ApiErrors.InvalidPhone("phone", phone);
        }

        // As a send sees it: the number's own row first, else its wa_id's.
        var suppression = await SeenBySends(services.Db, id, normalized).AsNoTracking()
            .OrderByDescending(s => s.Phone == normalized)
            .FirstOrDefaultAsync(cancellationToken);
        return suppression is null ? ApiErrors.SuppressionNotFound(normalized) : TypedResults.Ok(new SuppressionResponse(View(suppression)));
    }

    private static async Task<Results<Ok<OkResponse>, ApiError>> Remove(
        long id, string phone, [AsParameters] AdminServices services, CancellationToken cancellationToken)
    {
        if (!await services.Db.Businesses.AnyAsync(b => b.Id == id, cancellationToken))
        {
            return ApiErrors.BusinessNotFound(id);
        }

        if (!PhoneNumber.TryNormalize(phone, out var normalized))
        {
            return ApiErrors.InvalidPhone("phone", phone);
        }

        // Both rows a send checks, or the number would stay suppressed after a 200.
        var removed = await SeenBySends(services.Db, id, normalized).ExecuteDeleteAsync(cancellationToken);
        return removed == 0 ? ApiErrors.SuppressionNotFound(normalized) : TypedResults.Ok(OkResponse.Instance);
    }

    /// <summary>
    /// The rows a send to <paramref name="phone"/> checks (SuppressionLookup): the number's own, and the one kept under
    /// the wa_id Meta gave it, where its customer's STOP lands (a Brazilian mobile's wa_id lacks the ninth digit, a Mexican one has a 1 after 52). As
    /// <c>phone IN (number, wa_id)</c>, two probes of the (business_id, phone) index: with an OR around a subquery
    /// instead, SQLite read every suppression of the business.
    /// </summary>
    internal static IQueryable<Suppression> SeenBySends(Data.TwaBotDbContext db, long businessId, string phone) =>
        db.Suppressions.Where(s => s.BusinessId == businessId && new[]
        {
            phone, db.RecipientWaIds.Where(r => r.BusinessId == businessId && r.Phone == phone).Select(r => r.WaId).FirstOrDefault(),
        }.Contains(s.Phone));

    private static SuppressionView View(Suppression suppression) =>
        new(suppression.Phone, suppression.State, suppression.Reason, suppression.CreatedAt);
}
