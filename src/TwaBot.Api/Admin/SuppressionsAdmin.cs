using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Conversations;
using TwaBot.Api.Errors;
using TwaBot.Api.Json;
using TwaBot.Api.OpenApi;
using TwaBot.Api.Phones;

namespace TwaBot.Api.Admin;

/// <summary>Add a phone to a business's suppression list, read the list, or take a phone off it.</summary>
internal static class SuppressionsAdmin
{
    /// <summary>Entries per page of the list unless <c>limit=</c> says otherwise, and the most it may ask for.</summary>
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;

    /// <summary>The most entries one import takes: a transaction of them is short enough for sends waiting on the write gate.</summary>
    public const int MaxImport = 1000;

    /// <summary>Longer than any number or wa_id stored (E.164 has at most 15 digits), so no next_after is refused.</summary>
    private const int MaxAfterDigits = 32;

    public static void MapSuppressionsAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet("/businesses/{id:long}/suppressions", List).WithName("AdminListSuppressions")
            .WithSummary("List a business's suppressed numbers in digit order, a page at a time: the ones added here and its customers' STOPs.");
        admin.MapPost("/businesses/{id:long}/suppressions", Add).WithName("AdminAddSuppression")
            .WithSummary("Suppress a number (opted_out, blocked or undeliverable): sends to it are refused.").ReadsJsonBody();
        admin.MapPost("/businesses/{id:long}/suppressions/import", Import).WithName("AdminImportSuppressions")
            .WithSummary("Suppress up to 1000 numbers at once (a list brought from elsewhere; a body of up to 4 MB): all of them, or none when one is refused.")
            .ReadsJsonBody();
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

        if (Read(request, "", out var entry) is { } refused)
        {
            return refused;
        }

        var suppression = await services.Db.Suppressions
            .SingleOrDefaultAsync(s => s.BusinessId == id && s.Phone == entry.Phone, cancellationToken);
        var created = suppression is null;
        suppression = Store(services, id, entry, suppression);
        await RememberWrittenNumbersAsync(services, id, [entry.Phone], cancellationToken);
        await services.Db.SaveChangesAsync(cancellationToken);

        var response = new SuppressionResponse(View(suppression));
        return created
            ? TypedResults.Created($"/admin/v1/businesses/{id}/suppressions/{entry.Phone}", response)
            : TypedResults.Ok(response);
    }

    /// <summary>
    /// Many adds in one transaction, for a list brought from another provider or a CRM: every entry is read first and
    /// the first refusal names its index, so that a list is never half imported; numbers already listed are updated
    /// as an add updates them.
    /// </summary>
    private static async Task<Results<Ok<SuppressionImportResponse>, ApiError>> Import(
        long id, ImportSuppressionsRequest? request, [AsParameters] AdminServices services, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return ApiErrors.MissingBody();
        }

        if (!await services.Db.Businesses.AnyAsync(b => b.Id == id, cancellationToken))
        {
            return ApiErrors.BusinessNotFound(id);
        }

        if (request.Suppressions is not { Count: > 0 and <= MaxImport } items)
        {
            return ApiErrors.Validation("suppressions",
                $"suppressions must list 1 to {MaxImport} entries, each {{phone, state, reason?}}; send a longer list in several imports.");
        }

        var entries = new List<SuppressionEntry>(items.Count);
        var indexOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < items.Count; i++)
        {
            var field = $"suppressions[{i}]";
            if (items[i] is not { } item)
            {
                return ApiErrors.Validation(field, $"{field} must be an entry {{phone, state, reason?}}, not null.");
            }

            if (Read(item, field + ".", out var entry) is { } refused)
            {
                return refused;
            }

            // Two states for one number would leave the one stored to the order of the list: the caller decides.
            if (!indexOf.TryAdd(entry.Phone, i))
            {
                return ApiErrors.Validation($"{field}.phone",
                    $"{field}.phone is {entry.Phone}, as suppressions[{indexOf[entry.Phone]}].phone is: give each number once.");
            }

            entries.Add(entry);
        }

        var phones = entries.ConvertAll(e => e.Phone);
        var listed = await services.Db.Suppressions
            .Where(s => s.BusinessId == id && phones.Contains(s.Phone))
            .ToDictionaryAsync(s => s.Phone, StringComparer.Ordinal, cancellationToken);
        foreach (var entry in entries)
        {
            Store(services, id, entry, listed.GetValueOrDefault(entry.Phone));
        }

        await RememberWrittenNumbersAsync(services, id, phones, cancellationToken);
        await services.Db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new SuppressionImportResponse(entries.Count - listed.Count, listed.Count));
    }

    /// <summary>An add's fields as they are stored.</summary>
    private readonly record struct SuppressionEntry(string Phone, string State, string? Reason);

    /// <summary>Reads an add's fields, or refuses the first bad one, named after <paramref name="prefix"/> in an import.</summary>
    private static ApiError? Read(AddSuppressionRequest request, string prefix, out SuppressionEntry entry)
    {
        entry = default;
        if (string.IsNullOrWhiteSpace(request.Phone))
        {
            return ApiErrors.PhoneRequired($"{prefix}phone");
        }

        if (!PhoneNumber.TryNormalize(request.Phone, out var phone))
        {
            return ApiErrors.InvalidPhone($"{prefix}phone", request.Phone);
        }

        // Any case, as plan and category are read: "Opted_Out" from a spreadsheet is the same state.
        var state = request.State?.Trim().ToLowerInvariant();
        if (state is null || !SuppressionStates.All.Contains(state))
        {
            return ApiErrors.Validation($"{prefix}state", $"{prefix}state must be one of opted_out, blocked, undeliverable.");
        }

        if (AdminRules.OptionalText($"{prefix}reason", request.Reason, AdminRules.MaxReason) is { } badReason)
        {
            return badReason;
        }

        // Stored as measured, as names are: padding around it neither counts towards the 500 nor is kept beyond them; a blank one is none.
        entry = new SuppressionEntry(phone, state, AdminRules.Trimmed(request.Reason));
        return null;
    }

    /// <summary>Adds the entry, or replaces the state and reason of the number's row (which keeps its created_at).</summary>
    private static Suppression Store(AdminServices services, long businessId, SuppressionEntry entry, Suppression? listed)
    {
        if (listed is null)
        {
            listed = new Suppression { BusinessId = businessId, Phone = entry.Phone, State = entry.State, CreatedAt = services.Now };
            services.Db.Suppressions.Add(listed);
        }

        listed.State = entry.State;
        listed.Reason = entry.Reason;
        return listed;
    }

    /// <summary>
    /// An entry under the wa_id Meta gives a Brazilian, Mexican or Argentine mobile (WaIdForms), such as a customer's STOP
    /// listed by the business a number moved from, counts for the number as written, as a STOP from that wa_id does
    /// (WebhookApplier): a send finds the wa_id's row only through the pair, which a business that never sent to the
    /// number nor heard from it lacks. A pair a send's answer or a customer already gave is kept.
    /// </summary>
    private static async Task RememberWrittenNumbersAsync(
        AdminServices services, long businessId, List<string> phones, CancellationToken cancellationToken)
    {
        var pairs = phones.Select(waId => (WaId: waId, Phone: WaIdForms.WrittenNumberOf(waId)))
            .Where(pair => pair.Phone is not null).ToList();
        if (pairs.Count == 0)
        {
            return;
        }

        var written = pairs.ConvertAll(pair => pair.Phone!);
        var known = await services.Db.RecipientWaIds.Where(r => r.BusinessId == businessId && written.Contains(r.Phone))
            .Select(r => r.Phone).ToListAsync(cancellationToken);
        foreach (var (waId, phone) in pairs.Where(pair => !known.Contains(pair.Phone!)))
        {
            services.Db.RecipientWaIds.Add(new RecipientWaId { BusinessId = businessId, Phone = phone!, WaId = waId, UpdatedAt = services.Now });
        }
    }

    /// <summary>
    /// One page of the list, ordered by the stored digits (each entry as stored: a customer's STOP under the wa_id Meta
    /// gave their number). Paged by the last number given rather than an offset, so that entries added or removed
    /// between pages (a STOP arriving during an export) neither repeat nor push others out of it.
    /// </summary>
    private static async Task<Results<Ok<SuppressionListResponse>, ApiError>> List(
        long id,
        [FromQuery, Description("Only entries in this state: opted_out, blocked or undeliverable (any letter case).")] string? state,
        [FromQuery, Description("The next_after of the page before: entries whose number comes after it in digit order.")] string? after,
        [FromQuery, Range(1, MaxPageSize), Description("Entries per page, 1 to 1000 (default 100).")] string? limit,
        HttpRequest request, [AsParameters] AdminServices services, CancellationToken cancellationToken)
    {
        if ((OnlyOnce(request, "state") ?? OnlyOnce(request, "after") ?? OnlyOnce(request, "limit")) is { } twice)
        {
            return twice;
        }

        // Refused as an admin body's unknown field is: ignored, status=blocked would list every state as if blocked, and
        // page=2, offset= or cursor= the first page again for ever.
        if (request.Query.Keys.FirstOrDefault(name => !ListParameters.Contains(name, StringComparer.OrdinalIgnoreCase)) is { } unread)
        {
            return ApiErrors.Validation(unread, $"The suppression list does not read {unread}=: it reads state= (opted_out, blocked or undeliverable), "
                + $"after= (the next_after of the page before) and limit= (1 to {MaxPageSize}).");
        }

        var wantedState = state?.Trim().ToLowerInvariant();
        if (wantedState is not null && !SuppressionStates.All.Contains(wantedState))
        {
            return ApiErrors.Validation("state", "state must be one of opted_out, blocked, undeliverable.");
        }

        if (after is not null && (after.Length is 0 or > MaxAfterDigits || !after.All(char.IsAsciiDigit)))
        {
            return ApiErrors.Validation("after", "after must be the next_after of the page before: the digits of a number, e.g. 919876543210.");
        }

        var pageSize = DefaultPageSize;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out pageSize)
            || pageSize is < 1 or > MaxPageSize))
        {
            return ApiErrors.Validation("limit", $"limit must be a whole number from 1 to {MaxPageSize}.");
        }

        if (!await services.Db.Businesses.AnyAsync(b => b.Id == id, cancellationToken))
        {
            return ApiErrors.BusinessNotFound(id);
        }

        var entries = services.Db.Suppressions.AsNoTracking().Where(s => s.BusinessId == id);
        if (wantedState is not null)
        {
            entries = entries.Where(s => s.State == wantedState);
        }

        if (after is not null)
        {
            // SQL's own comparison of the text (binary, so digit order), on the (business_id, phone) index.
            entries = entries.Where(s => s.Phone.CompareTo(after) > 0);
        }

        // One more than the page, to know whether another follows without a second query.
        var page = await entries.OrderBy(s => s.Phone).Take(pageSize + 1).ToListAsync(cancellationToken);
        var more = page.Count > pageSize;
        if (more)
        {
            page.RemoveAt(pageSize);
        }

        return TypedResults.Ok(new SuppressionListResponse([.. page.Select(View)], more ? page[^1].Phone : null));
    }

    /// <summary>What the list reads, and <c>_</c>, a browser library's cache-buster (jQuery's <c>cache: false</c>), which asks nothing of it.</summary>
    private static readonly string[] ListParameters = ["state", "after", "limit", "_"];

    private static ApiError? OnlyOnce(HttpRequest request, string name) => request.Query[name].Count > 1
        ? ApiErrors.Validation(name, $"{name} is given more than once; give it once.")
        : null;

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
    /// the wa_id Meta gave it, where its customer's STOP lands (a Brazilian mobile's wa_id lacks the ninth digit, a Mexican one has a 1 after 52),
    /// and, for a number given as such a wa_id, the number as written (an entry made under it is the same phone's). As
    /// <c>phone IN (number, wa_id, number as written)</c>, one probe each of the (business_id, phone) index: with an OR around a subquery
    /// instead, SQLite read every suppression of the business.
    /// </summary>
    internal static IQueryable<Suppression> SeenBySends(Data.TwaBotDbContext db, long businessId, string phone) =>
        db.Suppressions.Where(s => s.BusinessId == businessId && new[]
        {
            phone, db.RecipientWaIds.Where(r => r.BusinessId == businessId && r.Phone == phone).Select(r => r.WaId).FirstOrDefault(),
            WaIdForms.WrittenNumberOf(phone),
        }.Contains(s.Phone));

    private static SuppressionView View(Suppression suppression) =>
        new(suppression.Phone, suppression.State, suppression.Reason, suppression.CreatedAt);
}
