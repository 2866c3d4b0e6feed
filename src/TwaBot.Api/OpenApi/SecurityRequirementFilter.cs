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
