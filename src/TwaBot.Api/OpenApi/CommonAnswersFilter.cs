using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace TwaBot.Api.OpenApi;

/// <summary>
/// What every operation may answer beyond its own statuses, and the headers answers carry: 500 and 503 (a
/// database that cannot be written at the moment) in the envelope anywhere; <c>Retry-After</c> (seconds) on every 429 and 503 and a send's 409; <c>Location</c> on every 201;
/// <c>RateLimit-Policy</c> and <c>RateLimit</c> on answers to an <c>/api/v1</c> call whose key was accepted
/// (a 429 for too many wrong keys from one address has none, nor a 413 refused by its Content-Length before the call is counted).
/// </summary>
internal sealed class CommonAnswersFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        operation.Responses ??= [];
        var usesDatabase = !context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<UsesNoDatabase>().Any();
        if (usesDatabase && operation.Responses.TryGetValue("503", out var declared) && declared is OpenApiResponse own)
        {
            // Declared by the operations that call Meta (sends, template calls): their 503 has two causes.
            own.Description = "Service Unavailable: calls to Meta for this WhatsApp number are paused by its circuit breaker "
                + "(META_UNAVAILABLE, nothing sent), or the database cannot be written at the moment (STORAGE_UNAVAILABLE); retry after Retry-After";
        }
        else if (usesDatabase)
        {
            AddEnvelopeAnswer(operation.Responses, "503",
                "Service Unavailable: the database cannot be written at the moment (STORAGE_UNAVAILABLE; retry after Retry-After)", context);
        }

        AddEnvelopeAnswer(operation.Responses, "500", "Internal Server Error", context);

        var keyed = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<ApiKeySecurity>().Any();
        foreach (var (status, response) in operation.Responses)
        {
            if (response is not OpenApiResponse writable)
            {
                continue;
            }

            // A send's 409 (its Idempotency-Key under way) passes in a moment; an admin 409 (a name or number taken) does not.
            if (status is "429" or "503" || (status == "409" && keyed))
            {
                OpenApiParts.AddHeader(writable, "Retry-After", "Seconds to wait before trying again.", JsonSchemaType.Integer);
            }

            if (status == "201")
            {
                OpenApiParts.AddHeader(writable, "Location", "The path of what was created.", JsonSchemaType.String);
            }

            // Not where the key is never looked at (a wrong key, 401). A 413 has them when the body came without a
            // Content-Length (chunked): its size is known only as it is read, after the key was checked and counted.
            if (keyed && status is not "401")
            {
                OpenApiParts.AddHeader(writable, "RateLimit-Policy", "The key's quotas: \"minute\";q=…;w=60, \"day\";q=…;w=86400 (the business's local day, its real length when its clocks change: 82800 or 90000 for an hour; IETF draft-ietf-httpapi-ratelimit-headers). "
                    + "Absent when the call was not counted (a 429 for too many wrong keys from the caller's address, a 413 for a body whose Content-Length is over the limit).", JsonSchemaType.String);
                OpenApiParts.AddHeader(writable, "RateLimit", "What remains of each quota and the seconds until it resets: \"minute\";r=…;t=…, \"day\";r=…;t=…. "
                    + "The minute's r is the key's own remainder, or the global one when less is left of that.", JsonSchemaType.String);
            }
        }
    }

    /// <summary>An answer in the error envelope, unless the operation declares that status itself.</summary>
    private static void AddEnvelopeAnswer(OpenApiResponses responses, string status, string description, OperationFilterContext context)
    {
        if (responses.ContainsKey(status))
        {
            return;
        }

        responses[status] = new OpenApiResponse
        {
            Description = description,
            Content = OpenApiParts.JsonContent(typeof(Errors.ErrorBody), context),
        };
    }
}
