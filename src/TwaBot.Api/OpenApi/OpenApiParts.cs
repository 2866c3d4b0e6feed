using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace TwaBot.Api.OpenApi;

/// <summary>Pieces of the document that several filters build the same way.</summary>
internal static class OpenApiParts
{
    public const string Json = "application/json";

    /// <summary>A JSON body of <paramref name="type"/>'s schema.</summary>
    public static Dictionary<string, IOpenApiMediaType> JsonContent(Type type, OperationFilterContext context) => new()
    {
        [Json] = new OpenApiMediaType { Schema = context.SchemaGenerator.GenerateSchema(type, context.SchemaRepository) },
    };

    public static void AddHeader(OpenApiResponse response, string name, string description, JsonSchemaType type)
    {
        response.Headers ??= new Dictionary<string, IOpenApiHeader>();
        response.Headers[name] = new OpenApiHeader { Description = description, Schema = new OpenApiSchema { Type = type } };
    }
}
