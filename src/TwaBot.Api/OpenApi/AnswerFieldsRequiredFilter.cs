using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace TwaBot.Api.OpenApi;

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
