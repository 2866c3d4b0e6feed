using System.Reflection;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace TwaBot.Api.OpenApi;

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
