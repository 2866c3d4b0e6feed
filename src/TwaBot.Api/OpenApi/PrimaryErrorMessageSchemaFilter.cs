using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace TwaBot.Api.OpenApi;

/// <summary>
/// Names the envelope's <c>error</c> as its message for client generators that read Microsoft's extension (Kiota):
/// without it, a generated client's exception says only "Exception of type ErrorBody was thrown" in logs.
/// </summary>
internal sealed class PrimaryErrorMessageSchemaFilter : ISchemaFilter
{
    private const string Extension = "x-ms-primary-error-message";

    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (context.Type == typeof(Errors.ErrorBody) && schema.Properties?.TryGetValue("error", out var error) == true
            && error is OpenApiSchema writable)
        {
            writable.Extensions ??= new Dictionary<string, IOpenApiExtension>();
            writable.Extensions[Extension] = new JsonNodeExtension(JsonValue.Create(true));
        }
    }
}
