using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace TwaBot.Api.OpenApi;

/// <summary>Declares the key an operation needs, from the marker its route group carries (quick-send: or its apikey parameter).</summary>
internal sealed class SecurityRequirementFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
        var scheme = metadata.OfType<AdminKeySecurity>().Any() ? SecuritySchemes.AdminKey
            : metadata.OfType<ApiKeySecurity>().Any() ? SecuritySchemes.ApiKey
            : null;
        if (scheme is null)
        {
            // Said outright (an empty list), so that no key reads as meant: Meta's webhooks carry its token or signature instead.
            operation.Security = [];
            return;
        }

        operation.Security ??= [];
        operation.Security.Add(new OpenApiSecurityRequirement
        {
            [new OpenApiSecuritySchemeReference(scheme, context.Document)] = [],
        });
        if (metadata.OfType<ApiKeys.ApiKeyInQueryAttribute>().Any())
        {
            // Either requirement will do: the header or the apikey query parameter.
            operation.Security.Add(new OpenApiSecurityRequirement
            {
                [new OpenApiSecuritySchemeReference(SecuritySchemes.ApiKeyInQuery, context.Document)] = [],
            });
        }
    }
}

/// <summary>
/// A query parameter marked <c>[Required]</c> is documented as required. The handler checks it itself
/// (a missing one answers in its turn among the send's checks), so binding leaves it nullable.
/// </summary>
internal sealed class RequiredParametersFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var required = context.ApiDescription.ParameterDescriptions
            .Where(p => p.ParameterDescriptor is Microsoft.AspNetCore.Mvc.Infrastructure.IParameterInfoParameterDescriptor { ParameterInfo: var info }
                && info.GetCustomAttribute<System.ComponentModel.DataAnnotations.RequiredAttribute>() is not null)
            .Select(p => p.Name)
            .ToHashSet(StringComparer.Ordinal);
        foreach (var parameter in (operation.Parameters ?? []).OfType<OpenApiParameter>().Where(p => p.Name is { } name && required.Contains(name)))
        {
            parameter.Required = true;
        }
    }
}

/// <summary>The optional <c>Idempotency-Key</c> of sends, and the header that marks a kept answer given again.</summary>
internal sealed class IdempotencyKeyFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (!context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<AcceptsIdempotencyKey>().Any())
        {
            return;
        }

        operation.Parameters ??= [];
        operation.Parameters.Insert(0, new OpenApiParameter
        {
            Name = Sending.Idempotency.IdempotencyRequest.HeaderName,
            In = ParameterLocation.Header,
            Description = "Optional: a key of your own (1 to 255 printable ASCII characters; a UUID is a good one) that makes a retry safe. "
                + "Retried with the same key and the same request within 24 hours, a send that Meta accepted, or may have, gets its first "
                + "answer again (or, if the server stopped before keeping it, 502 META_UNAVAILABLE with the message's id) and sends nothing; "
                + "a send refused (before Meta or by it) keeps nothing, so a retry tries again. "
                + "The same key for another request: 422; while the first is under way: 409. Keys belong to the API key.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 255 },
        });
        foreach (var (status, response) in operation.Responses ?? [])
        {
            if (response is OpenApiResponse writable && (status == "200" || status.StartsWith('5')))
            {
                writable.Headers ??= new Dictionary<string, IOpenApiHeader>();
                writable.Headers[Sending.Idempotency.IdempotentReplay.HeaderName] = new OpenApiHeader
                {
                    Description = "true when this is the kept answer to an earlier request with the same Idempotency-Key; absent otherwise.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                };
            }
        }
    }
}

/// <summary>
/// Describes bodies that endpoints read themselves (<see cref="OpenApiRequestBodyType"/>), and marks every body
/// required: a handler whose body parameter is nullable (which ASP.NET documents as optional) takes a missing body
/// only to refuse it in the envelope (MissingBody), and generated clients would otherwise let callers leave it out.
/// </summary>
internal sealed class RequestBodyFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<OpenApiRequestBodyType>().LastOrDefault() is not { } body)
        {
            if (operation.RequestBody is OpenApiRequestBody inferred)
            {
                inferred.Required = true;
            }

            return;
        }

        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Content = new Dictionary<string, IOpenApiMediaType>
            {
                ["application/json"] = new OpenApiMediaType { Schema = context.SchemaGenerator.GenerateSchema(body.Type, context.SchemaRepository) },
            },
        };
    }
}

/// <summary>Copies <see cref="OpenApiExamples"/> into the operation's JSON request and responses.</summary>
internal sealed class ExamplesFilter : IOperationFilter
{
    private const string Json = "application/json";

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        // Group-level examples come first in the metadata; endpoint-level ones override them per status.
        foreach (var examples in context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<OpenApiExamples>())
        {
            if (examples.Request is { } request && operation.RequestBody?.Content is { } requestContent
                && requestContent.TryGetValue(Json, out var requestMedia))
            {
                SetRequestExample(requestMedia, request);
            }

            foreach (var (status, answers) in examples.Responses)
            {
                var key = status.ToString(CultureInfo.InvariantCulture);
                if (operation.Responses is { } responses && responses.TryGetValue(key, out var response)
                    && response.Content is { } content && content.TryGetValue(Json, out var media))
                {
                    SetExamples(media, answers);
                }
            }
        }
    }

    // Content maps hold the interface; the generator creates concrete media types, which are writable.
    private static void SetRequestExample(IOpenApiMediaType media, string json) => SetExamples(media, [json]);

    /// <summary>One answer as the example; several as named examples (by error_code), since one status has many errors.</summary>
    private static void SetExamples(IOpenApiMediaType media, IReadOnlyList<string> answers)
    {
        if (media is not OpenApiMediaType writable)
        {
            return;
        }

        writable.Example = answers.Count == 1 ? JsonNode.Parse(answers[0]) : null;
        writable.Examples = answers.Count == 1 ? null : answers.Select(answer => JsonNode.Parse(answer)).ToDictionary(
            answer => answer?["error_code"]?.GetValue<string>() ?? "success",
            answer => (IOpenApiExample)new OpenApiExample { Value = answer });
    }
}

/// <summary>
/// Makes schemas say how the server reads a body. Unknown fields are refused only by types marked
/// <c>[JsonUnmappedMemberHandling(Disallow)]</c> (the admin API's bodies); the public sends ignore
/// them (CRMs add their own data), so their schemas stay open to additional properties. A PATCH
/// field whose value may be null (null clears it) is documented as nullable, and a field's
/// <c>[AllowedValues]</c> as its enum.
/// </summary>
internal sealed class ReadingRulesSchemaFilter : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema writable)
        {
            return;
        }

        if (writable.Type == JsonSchemaType.Object && !writable.AdditionalPropertiesAllowed
            && context.Type.GetCustomAttribute<JsonUnmappedMemberHandlingAttribute>()?.UnmappedMemberHandling != JsonUnmappedMemberHandling.Disallow)
        {
            writable.AdditionalPropertiesAllowed = true;
        }

        // [AllowedValues] documents a field's values (Swashbuckle does not read it); the server checks them itself.
        if (context.MemberInfo?.GetCustomAttribute<System.ComponentModel.DataAnnotations.AllowedValuesAttribute>() is { } allowed)
        {
            // A null among the values stays in the list: OpenAPI 3.0 allows a nullable field's null only when its enum lists it.
            writable.Enum = [.. allowed.Values.Select(value => value is null ? JsonNullSentinel.JsonNull : JsonValue.Create(value.ToString()!))];
        }

        if (context.Type.IsGenericType && context.Type.GetGenericTypeDefinition() == typeof(Json.PatchField<>)
            && Nullable.GetUnderlyingType(context.Type.GetGenericArguments()[0]) is not null)
        {
            writable.Type |= JsonSchemaType.Null;
        }
    }
}

/// <summary>
/// What every operation may answer beyond its own statuses, and the headers answers carry: 500 and 503 (a
/// database that cannot be written at the moment) in the envelope anywhere; <c>Retry-After</c> (seconds) on every 429 and 503 and a send's 409; <c>Location</c> on every 201;
/// <c>RateLimit-Policy</c> and <c>RateLimit</c> on answers to an <c>/api/v1</c> call whose key was accepted
/// (a 429 for too many wrong keys from one address has none).
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
                AddHeader(writable, "Retry-After", "Seconds to wait before trying again.", JsonSchemaType.Integer);
            }

            if (status == "201")
            {
                AddHeader(writable, "Location", "The path of what was created.", JsonSchemaType.String);
            }

            // Not where the key is never looked at: a wrong key (401) or a body over the limit (413, refused first).
            if (keyed && status is not ("401" or "413"))
            {
                AddHeader(writable, "RateLimit-Policy", "The key's quotas: \"minute\";q=…;w=60, \"day\";q=…;w=86400 (the business's local day: 82800 or 90000 when its clocks change; IETF draft-ietf-httpapi-ratelimit-headers). "
                    + "Absent when the key was not looked at (a 429 for too many wrong keys from the caller's address).", JsonSchemaType.String);
                AddHeader(writable, "RateLimit", "What remains of each quota and the seconds until it resets: \"minute\";r=…;t=…, \"day\";r=…;t=…. "
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
            Content = new Dictionary<string, IOpenApiMediaType>
            {
                ["application/json"] = new OpenApiMediaType { Schema = context.SchemaGenerator.GenerateSchema(typeof(Errors.ErrorBody), context.SchemaRepository) },
            },
        };
    }

    private static void AddHeader(OpenApiResponse response, string name, string description, JsonSchemaType type)
    {
        response.Headers ??= new Dictionary<string, IOpenApiHeader>();
        response.Headers[name] = new OpenApiHeader { Description = description, Schema = new OpenApiSchema { Type = type } };
    }
}

/// <summary>
/// Marks each field an answer always carries as required (every one but those left out when null), so
/// that client generators do not make them optional. Request schemas keep their own rules.
/// </summary>
internal sealed class AnswerFieldsRequiredFilter : IDocumentFilter
{
    public void Apply(OpenApiDocument document, DocumentFilterContext context)
    {
        var answers = new HashSet<Type>();
        foreach (var type in context.ApiDescriptions.SelectMany(d => d.SupportedResponseTypes).Select(r => r.Type))
        {
            Collect(type, answers);
        }

        foreach (var type in answers)
        {
            if (context.SchemaRepository.TryLookupByType(type, out var reference)
                && document.Components?.Schemas is { } schemas && schemas.TryGetValue(reference.Reference.Id!, out var found)
                && found is OpenApiSchema schema && schema.Properties is { Count: > 0 } properties)
            {
                var alwaysWritten = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                    .Where(p => p.GetCustomAttribute<JsonIgnoreAttribute>() is null)
                    .Select(p => p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name));
                schema.Required = new SortedSet<string>(alwaysWritten.Where(properties.ContainsKey), StringComparer.Ordinal);
            }
        }
    }

    /// <summary>The type and every one of ours it holds, through lists and nullables.</summary>
    private static void Collect(Type? type, HashSet<Type> answers)
    {
        if (type is null)
        {
            return;
        }

        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsArray)
        {
            Collect(type.GetElementType(), answers);
            return;
        }

        if (type.IsGenericType)
        {
            foreach (var argument in type.GetGenericArguments())
            {
                Collect(argument, answers);
            }

            return;
        }

        if (type.Namespace?.StartsWith("TwaBot.", StringComparison.Ordinal) == true && type.IsClass && answers.Add(type))
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                Collect(property.PropertyType, answers);
            }
        }
    }
}

/// <summary>Marks an endpoint that reads and writes no database (Meta's verify handshake): it cannot answer 503 STORAGE_UNAVAILABLE.</summary>
internal sealed class UsesNoDatabase;
