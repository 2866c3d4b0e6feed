using System.Reflection;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace TwaBot.Api.OpenApi;

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
