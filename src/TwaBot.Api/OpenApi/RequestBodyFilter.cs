using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace TwaBot.Api.OpenApi;

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
            Content = OpenApiParts.JsonContent(body.Type, context),
        };
    }
}
