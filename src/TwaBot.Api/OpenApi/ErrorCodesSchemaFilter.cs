using System.Reflection;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace TwaBot.Api.OpenApi;

/// <summary>
/// Names every <c>error_code</c> the server answers in the envelope's schema, read from <see cref="Errors.ErrorCodes"/> so the
/// list cannot drift: without it a client generated from the document knew only the codes its examples happen to show
/// (not BUSINESS_NOT_FOUND, CONFLICT or INVALID_SIGNATURE, for one). A description, not an enum: generated clients refuse or
/// drop a value their enum lacks, and a later version may add a code (a published one never changes meaning).
/// </summary>
internal sealed class ErrorCodesSchemaFilter : ISchemaFilter
{
    /// <summary>Every code of <see cref="Errors.ErrorCodes"/>, in its order.</summary>
    internal static IReadOnlyList<string> All { get; } = [.. typeof(Errors.ErrorCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Where(field => field.IsLiteral).Select(field => (string)field.GetRawConstantValue()!)];

    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (context.Type == typeof(Errors.ErrorBody) && schema.Properties?.TryGetValue("error_code", out var code) == true
            && code is OpenApiSchema writable)
        {
            writable.Description = "What went wrong, for a program to branch on; a code never changes meaning, and later versions may add codes. "
                + "One of: " + string.Join(", ", All) + ".";
        }
    }
}
