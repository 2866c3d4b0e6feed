using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.ApiKeys;
using TwaBot.Api.Errors;
using TwaBot.Api.OpenApi;

namespace TwaBot.Api.Admin;

/// <summary>Issue, list, change and revoke API keys. The key itself appears only in the create answer.</summary>
internal static class ApiKeysAdmin
{
    public static void MapApiKeysAdmin(this RouteGroupBuilder admin)
    {
        admin.MapPost("/businesses/{id:long}/api-keys", Create).WithName("AdminCreateApiKey")
            .WithSummary("Create an API key with its permissions and optional limits and expiry; the key is shown in this answer only.")
            .ReadsJsonBody()
            .WithExamples(SeedExamples.CreateApiKeyRequest, (StatusCodes.Status201Created, SeedExamples.CreatedApiKeyResponse));
        admin.MapGet("/businesses/{id:long}/api-keys", List).WithName("AdminListApiKeys")
            .WithSummary("List a business's API keys, without their secrets.").NeverAnswers(StatusCodes.Status400BadRequest);
        admin.MapGet("/api-keys/{keyId:long}", Get).WithName("AdminGetApiKey")
            .WithSummary("Read one API key, without its secret.").NeverAnswers(StatusCodes.Status400BadRequest);
        admin.MapPatch("/api-keys/{keyId:long}", Update).WithName("AdminUpdateApiKey")
            .WithSummary("Change a key's name, permissions, limits or expiry (null clears a limit or the expiry).").ReadsJsonBody();
        admin.MapDelete("/api-keys/{keyId:long}", Revoke).WithName("AdminRevokeApiKey")
            .WithSummary("Revoke an API key; it is refused from then on.").NeverAnswers(StatusCodes.Status400BadRequest);
    }

    private static async Task<Results<Created<ApiKeyResponse>, ApiError>> Create(
        long id, CreateApiKeyRequest? request, [AsParameters] AdminServices services, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return ApiErrors.MissingBody();
        }

        if (!await services.Db.Businesses.AnyAsync(b => b.Id == id, cancellationToken))
        {
            return ApiErrors.BusinessNotFound(id);
        }

        if ((AdminRules.Line("name", request.Name, AdminRules.MaxKeyName)
             ?? Permissions(request.Permissions)
             ?? AdminRules.Positive("per_minute_limit", request.PerMinuteLimit)
             ?? AdminRules.Positive("daily_limit", request.DailyLimit)
             ?? AdminRules.Future("expires_at", request.ExpiresAt, services.Now)) is { } error)
        {
            return error;
        }

        var key = ApiKeyFormat.Generate(services.Mode.ApiKeyPrefix);
        var apiKey = new ApiKey
        {
            BusinessId = id,
            Name = request.Name!.Trim(),
            Prefix = ApiKeyFormat.DisplayPrefix(key),
            KeyHash = ApiKeyFormat.Hash(key),
            Permissions = ApiKeyPermissions.Normalize(request.Permissions!),
            PerMinuteLimit = request.PerMinuteLimit,
            DailyLimit = request.DailyLimit,
            ExpiresAt = request.ExpiresAt,
            CreatedAt = services.Now,
        };
        services.Db.ApiKeys.Add(apiKey);
        await services.Db.SaveChangesAsync(cancellationToken);
        AdminLog.KeyCreated(services.Log, apiKey.Id, apiKey.BusinessId);
        return TypedResults.Created(
            $"/admin/v1/api-keys/{apiKey.Id}", new ApiKeyResponse(View(apiKey) with { Key = key }));
    }

    private static async Task<Results<Ok<ApiKeyListResponse>, ApiError>> List(
        long id, [AsParameters] AdminServices services, CancellationToken cancellationToken)
    {
        if (!await services.Db.Businesses.AnyAsync(b => b.Id == id, cancellationToken))
        {
            return ApiErrors.BusinessNotFound(id);
        }

        var keys = await services.Db.ApiKeys.AsNoTracking()
            .Where(k => k.BusinessId == id)
            .OrderBy(k => k.Id)
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new ApiKeyListResponse(keys.Select(View).ToList()));
    }

    /// <summary>One key, without its secret (the Location of a create).</summary>
    private static async Task<Results<Ok<ApiKeyResponse>, ApiError>> Get(
        long keyId, [AsParameters] AdminServices services, CancellationToken cancellationToken) =>
        await services.Db.ApiKeys.AsNoTracking().SingleOrDefaultAsync(k => k.Id == keyId, cancellationToken) is { } apiKey
            ? TypedResults.Ok(new ApiKeyResponse(View(apiKey)))
            : ApiErrors.ApiKeyNotFound(keyId);

    private static async Task<Results<Ok<ApiKeyResponse>, ApiError>> Update(
        long keyId, UpdateApiKeyRequest? request, [AsParameters] AdminServices services, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return ApiErrors.MissingBody();
        }

        var apiKey = await services.Db.ApiKeys.SingleOrDefaultAsync(k => k.Id == keyId, cancellationToken);
        if (apiKey is null)
        {
            return ApiErrors.ApiKeyNotFound(keyId);
        }

        if (((request.Name.IsSet ? AdminRules.Line("name", request.Name.Value, AdminRules.MaxKeyName) : null)
             ?? (request.Permissions.IsSet ? Permissions(request.Permissions.Value) : null)
             ?? AdminRules.Positive("per_minute_limit", request.PerMinuteLimit.Value)
             ?? AdminRules.Positive("daily_limit", request.DailyLimit.Value)
             ?? AdminRules.Future("expires_at", request.ExpiresAt.Value, services.Now)) is { } error)
        {
            return error;
        }

        if (request.Name.IsSet)
        {
            apiKey.Name = request.Name.Value!.Trim();
        }

        if (request.Permissions.IsSet)
        {
            apiKey.Permissions = ApiKeyPermissions.Normalize(request.Permissions.Value!);
        }

        if (request.PerMinuteLimit.IsSet)
        {
            apiKey.PerMinuteLimit = request.PerMinuteLimit.Value;
        }

        if (request.DailyLimit.IsSet)
        {
            apiKey.DailyLimit = request.DailyLimit.Value;
        }

        if (request.ExpiresAt.IsSet)
        {
            apiKey.ExpiresAt = request.ExpiresAt.Value;
        }

        await services.Db.SaveChangesAsync(cancellationToken);
        services.Keys.Invalidate(); // limits and permissions take effect on the next request
        return TypedResults.Ok(new ApiKeyResponse(View(apiKey)));
    }

    private static async Task<Results<Ok<ApiKeyResponse>, ApiError>> Revoke(
        long keyId, [AsParameters] AdminServices services, CancellationToken cancellationToken)
    {
        var apiKey = await services.Db.ApiKeys.SingleOrDefaultAsync(k => k.Id == keyId, cancellationToken);
        if (apiKey is null)
        {
            return ApiErrors.ApiKeyNotFound(keyId);
        }

        var newlyRevoked = apiKey.RevokedAt is null;
        apiKey.RevokedAt ??= services.Now;
        await services.Db.SaveChangesAsync(cancellationToken);
        services.Keys.Invalidate();
        if (newlyRevoked)
        {
            AdminLog.KeyRevoked(services.Log, apiKey.Id, apiKey.BusinessId);
        }
        return TypedResults.Ok(new ApiKeyResponse(View(apiKey)));
    }

    private static ApiError? Permissions(List<string>? permissions)
    {
        if (permissions is null || permissions.Count == 0)
        {
            return ApiErrors.Validation("permissions",
                "permissions must list at least one of send_template, send_text, send_media, send_otp, or \"*\" for all.");
        }

        var unknown = permissions.FindIndex(p => p is null || !ApiKeyPermissions.IsKnown(p));
        return unknown < 0 ? null
            // Quoted as '', a null would read as if an empty text had been sent.
            : permissions[unknown] is null ? ApiErrors.Validation($"permissions[{unknown}]",
                $"permissions[{unknown}] is null: give each permission as text, one of send_template, send_text, send_media, send_otp, or \"*\".")
            : ApiErrors.Validation($"permissions[{unknown}]",
                $"permissions[{unknown}] is '{permissions[unknown]}', which is not a permission: use send_template, send_text, send_media, send_otp, or \"*\".");
    }

    private static ApiKeyView View(ApiKey key) => new(
        key.Id, key.Name, key.Prefix, key.Permissions, key.PerMinuteLimit, key.DailyLimit,
        key.ExpiresAt, key.RevokedAt, key.LastUsedAt, key.CreatedAt);
}
