using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Http.HttpResults;
using TwaBot.Api.ApiKeys;
using TwaBot.Api.Configuration;
using TwaBot.Api.Data;
using TwaBot.Api.Json;
using TwaBot.Api.OpenApi;

namespace TwaBot.Api.Health;

/// <summary><c>GET /api/v1/health</c>: validates the key and says whether WhatsApp is connected.</summary>
public static class HealthApi
{
    public static RouteGroupBuilder MapHealth(this RouteGroupBuilder api)
    {
        api.MapGet("/health", GetHealth)
            .WithName("Health")
            .WithTags("Account")
            .WithSummary("Validate your API key and check whether WhatsApp is connected.")
            .WithExamples(responses: [(StatusCodes.Status200OK, SeedExamples.Health), (StatusCodes.Status401Unauthorized, SeedExamples.MissingApiKey)]);
        return api;
    }

    private static async Task<Ok<HealthResponse>> GetHealth(
        ApiCaller caller, TwaBotDbContext db, Sending.SendLookups lookups, Meta.MetaTokenRefusals refusals, TimeProvider time, ServerMode mode,
        CancellationToken cancellationToken)
    {
        // As sends see it: a connection whose token this server cannot decrypt sends nothing, and one whose
        // token Meta refused (with no call succeeding since, restarts included) would only fail (WHATSAPP_NOT_CONNECTED)
        // until WhatsApp is connected again.
        var connection = (await lookups.GetAsync(db, caller.BusinessId, cancellationToken)).Connection;
        var connected = connection is not null && refusals.RefusedAt(connection) is null;
        return TypedResults.Ok(new HealthResponse(
            caller.BusinessName, connected, caller.KeyName, time.GetUtcNow().UtcDateTime, mode.Name));
    }
}

/// <summary>The seed's health body, plus <c>mode</c>: <c>sandbox</c> or <c>live</c>.</summary>
public sealed record HealthResponse(
    string Business, bool WhatsappConnected, string ApiKeyName, DateTime Timestamp, [property: AllowedValues(ServerMode.SandboxName, ServerMode.LiveName)] string Mode) : SuccessResponse;
