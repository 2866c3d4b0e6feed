using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Businesses;
using TwaBot.Api.Errors;
using TwaBot.Api.Meta;
using TwaBot.Api.OpenApi;

namespace TwaBot.Api.Admin;

/// <summary>Create, list, read and change businesses.</summary>
internal static class BusinessesAdmin
{
    public static void MapBusinessesAdmin(this RouteGroupBuilder admin)
    {
        admin.MapPost("/businesses", Create).WithName("AdminCreateBusiness")
            .WithSummary("Create a business (plan Starter, Growth or Pro; IANA time zone, default the server's).")
            .ReadsJsonBody().NeverAnswers(StatusCodes.Status404NotFound)
            .WithExamples(SeedExamples.CreateBusinessRequest, (StatusCodes.Status201Created, SeedExamples.BusinessResponse));
        admin.MapGet("/businesses", List).WithName("AdminListBusinesses")
            .WithSummary("List every business, oldest first, each with its WhatsApp connection (never the access token).")
            .NeverAnswers(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        admin.MapGet("/businesses/{id:long}", Get).WithName("AdminGetBusiness")
            .WithSummary("Read a business and its WhatsApp connection (never the access token).").NeverAnswers(StatusCodes.Status400BadRequest);
        admin.MapPatch("/businesses/{id:long}", Update).WithName("AdminUpdateBusiness")
            .WithSummary("Change a business's name, plan or time zone.").ReadsJsonBody();
    }

    private static async Task<Results<Created<BusinessResponse>, ApiError>> Create(
        CreateBusinessRequest? request, [AsParameters] AdminServices services, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return ApiErrors.MissingBody();
        }

        var timeZone = request.TimeZone ?? services.Options.Value.DefaultTimeZone;
        if ((AdminRules.Line("name", request.Name, AdminRules.MaxBusinessName) ?? AdminRules.Plan(request.Plan)
            ?? AdminRules.TimeZone(timeZone)) is { } error)
        {
            return error;
        }

        var business = new Business
        {
            Name = request.Name!.Trim(),
            Plan = AdminRules.ParsePlan(request.Plan)!.Value,
            TimeZone = timeZone,
            CreatedAt = services.Now,
        };
        services.Db.Businesses.Add(business);
        await services.Db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/admin/v1/businesses/{business.Id}", new BusinessResponse(View(business, services)));
    }

    private static async Task<Ok<BusinessListResponse>> List([AsParameters] AdminServices services, CancellationToken cancellationToken)
    {
        var businesses = await services.Db.Businesses.AsNoTracking().Include(b => b.WhatsApp).OrderBy(b => b.Id).ToListAsync(cancellationToken);
        return TypedResults.Ok(new BusinessListResponse([.. businesses.Select(business => View(business, services))]));
    }

    private static async Task<Results<Ok<BusinessResponse>, ApiError>> Get(
        long id, [AsParameters] AdminServices services, CancellationToken cancellationToken)
    {
        var business = await Find(services, id, cancellationToken);
        return business is null ? ApiErrors.BusinessNotFound(id) : TypedResults.Ok(new BusinessResponse(View(business, services)));
    }

    private static async Task<Results<Ok<BusinessResponse>, ApiError>> Update(
        long id, UpdateBusinessRequest? request, [AsParameters] AdminServices services, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return ApiErrors.MissingBody();
        }

        var business = await Find(services, id, cancellationToken);
        if (business is null)
        {
            return ApiErrors.BusinessNotFound(id);
        }

        if (((request.Name.IsSet ? AdminRules.Line("name", request.Name.Value, AdminRules.MaxBusinessName) : null)
            ?? (request.Plan.IsSet ? AdminRules.Plan(request.Plan.Value) : null)
            // The stored zone sent back unchanged (a form that sends every field) is no change to check: it may be one this host
            // lacks, or in a case stored before spellings were checked, and refusing it would block renaming the business.
            ?? (request.TimeZone.IsSet && request.TimeZone.Value != business.TimeZone ? AdminRules.TimeZone(request.TimeZone.Value) : null)) is { } error)
        {
            return error;
        }

        var zoneChanged = request.TimeZone.IsSet && request.TimeZone.Value != business.TimeZone;
        business.Name = request.Name.IsSet ? request.Name.Value!.Trim() : business.Name;
        business.Plan = request.Plan.IsSet ? AdminRules.ParsePlan(request.Plan.Value)!.Value : business.Plan;
        business.TimeZone = request.TimeZone.IsSet ? request.TimeZone.Value! : business.TimeZone;
        await services.Db.SaveChangesAsync(cancellationToken);
        services.Keys.Invalidate(); // cached keys carry the business's name, plan and zone
        if (zoneChanged)
        {
            // Not the request's token: the zone is saved, and a caller that hangs up now would leave today's sends uncounted.
            await services.Quota.TimeZoneChangedAsync(services.Db, id, business.TimeZone, CancellationToken.None);
        }

        return TypedResults.Ok(new BusinessResponse(View(business, services)));
    }

    internal static Task<Business?> Find(AdminServices services, long id, CancellationToken cancellationToken) =>
        services.Db.Businesses.Include(b => b.WhatsApp).SingleOrDefaultAsync(b => b.Id == id, cancellationToken);

    internal static BusinessView View(Business business, AdminServices services) => new(
        business.Id,
        business.Name,
        business.Plan.ToString(),
        business.TimeZone,
        business.WhatsApp is { } whatsapp ? View(whatsapp, services) : new WhatsAppView(false, null, null, null, false, null));

    /// <summary>Connected as sends see it: a token this server's key ring cannot decrypt sends nothing.</summary>
    private static WhatsAppView View(WhatsAppConnection whatsapp, AdminServices services)
    {
        var connection = services.Tokens.CanRead(whatsapp) ? MetaConnection.Open(whatsapp, services.Tokens) : null;
        return new WhatsAppView(connection is not null, whatsapp.PhoneNumberId, whatsapp.WabaId, whatsapp.DisplayPhoneNumber,
            whatsapp.IsSandbox, services.TokenRefusals.RefusedAt(connection));
    }
}
