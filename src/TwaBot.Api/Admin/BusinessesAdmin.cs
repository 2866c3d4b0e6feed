using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Businesses;
using TwaBot.Api.Errors;
using TwaBot.Api.OpenApi;

namespace TwaBot.Api.Admin;

/// <summary>Create, read and change businesses.</summary>
internal static class BusinessesAdmin
{
    public static void MapBusinessesAdmin(this RouteGroupBuilder admin)
    {
        admin.MapPost("/businesses", Create).WithName("AdminCreateBusiness")
            .WithExamples(SeedExamples.CreateBusinessRequest, (StatusCodes.Status201Created, SeedExamples.BusinessResponse));
        admin.MapGet("/businesses/{id:long}", Get).WithName("AdminGetBusiness");
        admin.MapPatch("/businesses/{id:long}", Update).WithName("AdminUpdateBusiness");
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
        return TypedResults.Created($"/admin/v1/businesses/{business.Id}", new BusinessResponse(View(business)));
    }

    private static async Task<Results<Ok<BusinessResponse>, ApiError>> Get(
        long id, [AsParameters] AdminServices services, CancellationToken cancellationToken)
    {
        var business = await Find(services, id, cancellationToken);
        return business is null ? ApiErrors.BusinessNotFound(id) : TypedResults.Ok(new BusinessResponse(View(business)));
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

        if (((request.Name is null ? null : AdminRules.Line("name", request.Name, AdminRules.MaxBusinessName))
            ?? (request.Plan is null ? null : AdminRules.Plan(request.Plan))
            ?? (request.TimeZone is null ? null : AdminRules.TimeZone(request.TimeZone))) is { } error)
        {
            return error;
        }

        var zoneChanged = request.TimeZone is not null && request.TimeZone != business.TimeZone;
        business.Name = request.Name?.Trim() ?? business.Name;
        business.Plan = AdminRules.ParsePlan(request.Plan) ?? business.Plan;
        business.TimeZone = request.TimeZone ?? business.TimeZone;
        await services.Db.SaveChangesAsync(cancellationToken);
        services.Keys.Invalidate(); // cached keys carry the business's name, plan and zone
        if (zoneChanged)
        {
            await services.Quota.TimeZoneChangedAsync(services.Db, id, business.TimeZone, cancellationToken);
        }

        return TypedResults.Ok(new BusinessResponse(View(business)));
    }

    internal static Task<Business?> Find(AdminServices services, long id, CancellationToken cancellationToken) =>
        services.Db.Businesses.Include(b => b.WhatsApp).SingleOrDefaultAsync(b => b.Id == id, cancellationToken);

    internal static BusinessView View(Business business) => new(
        business.Id,
        business.Name,
        business.Plan.ToString(),
        business.TimeZone,
        business.WhatsApp is { } whatsapp
            ? new WhatsAppView(true, whatsapp.PhoneNumberId, whatsapp.WabaId, whatsapp.DisplayPhoneNumber, whatsapp.IsSandbox)
            : new WhatsAppView(false, null, null, null, false));
}
