using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace TwaBot.Api.OpenApi;

/// <summary>Declares the key an operation needs, from the marker its route group carries.</summary>
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
            return;
        }

        operation.Security ??= [];
        operation.Security.Add(new OpenApiSecurityRequirement
        {
            [new OpenApiSecuritySchemeReference(scheme, context.Document)] = [],
        });
    }
}

/// <summary>Describes bodies that endpoints read themselves (<see cref="OpenApiRequestBodyType"/>).</summary>
internal sealed class RequestBodyFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<OpenApiRequestBodyType>().LastOrDefault() is not { } body)
        {
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
                SetExample(requestMedia, request);
            }

            foreach (var (status, json) in examples.Responses)
            {
                var key = status.ToString(CultureInfo.InvariantCulture);
                if (operation.Responses is { } responses && responses.TryGetValue(key, out var response)
                    && response.Content is { } content && content.TryGetValue(Json, out var media))
                {
                    SetExample(media, json);
                }
            }
        }
    }

    // Content maps hold the interface; the generator creates concrete media types, which are writable.
    private static void SetExample(IOpenApiMediaType media, string json)
    {
        if (media is OpenApiMediaType writable)
        {
            writable.Example = JsonNode.Parse(json);
        }
    }
}

/// <summary>
/// Makes schemas say how the server reads a body. Unknown fields are refused only by types marked
/// <c>[JsonUnmappedMemberHandling(Disallow)]</c> (the admin API's bodies); the public sends ignore
/// them (CRMs add their own data), so their schemas stay open to additional properties. A PATCH
/// field whose value may be null (null clears it) is documented as nullable.
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

        if (context.Type.IsGenericType && context.Type.GetGenericTypeDefinition() == typeof(Json.PatchField<>)
            && Nullable.GetUnderlyingType(context.Type.GetGenericArguments()[0]) is not null)
        {
            writable.Type |= JsonSchemaType.Null;
        }
    }
}
