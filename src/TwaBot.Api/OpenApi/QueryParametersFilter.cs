using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using Microsoft.AspNetCore.Mvc.Infrastructure;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace TwaBot.Api.OpenApi;

/// <summary>
/// Query parameters that handlers read themselves, documented as what they must hold. One marked <c>[Required]</c> is
/// required: the handler checks it (a missing one answers in its turn among the send's checks), so binding leaves it
/// nullable. Text marked <c>[Range]</c> is the whole number it must be: bound as text so that <c>limit=ten</c> is refused
/// naming the parameter, where a failed number binding answers without saying which.
/// </summary>
internal sealed class QueryParametersFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var declared = context.ApiDescription.ParameterDescriptions
            .Select(p => (p.Name, Info: (p.ParameterDescriptor as IParameterInfoParameterDescriptor)?.ParameterInfo))
            .Where(p => p.Info is not null)
            .ToDictionary(p => p.Name, p => p.Info!, StringComparer.Ordinal);
        foreach (var parameter in (operation.Parameters ?? []).OfType<OpenApiParameter>())
        {
            if (parameter.Name is not { } name || !declared.TryGetValue(name, out var info))
            {
                continue;
            }

            if (info.GetCustomAttribute<RequiredAttribute>() is not null)
            {
                parameter.Required = true;
            }

            if (info.GetCustomAttribute<RangeAttribute>() is { } range && parameter.Schema is OpenApiSchema schema)
            {
                schema.Type = JsonSchemaType.Integer;
                schema.Format = "int32";
                schema.Minimum = Convert.ToString(range.Minimum, CultureInfo.InvariantCulture);
                schema.Maximum = Convert.ToString(range.Maximum, CultureInfo.InvariantCulture);
            }
        }
    }
}
