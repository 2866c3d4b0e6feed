using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace TwaBot.Api.OpenApi;

/// <summary>Copies <see cref="OpenApiExamples"/> into the operation's JSON request and responses.</summary>
internal sealed class ExamplesFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        // Group-level examples come first in the metadata; endpoint-level ones override them per status.
        foreach (var examples in context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<OpenApiExamples>())
        {
            if (examples.Request is { } request && operation.RequestBody?.Content is { } requestContent
                && requestContent.TryGetValue(OpenApiParts.Json, out var requestMedia))
            {
                SetRequestExample(requestMedia, request);
            }

            foreach (var (status, answers) in examples.Responses)
            {
                var key = status.ToString(CultureInfo.InvariantCulture);
                if (operation.Responses is { } responses && responses.TryGetValue(key, out var response)
                    && response.Content is { } content && content.TryGetValue(OpenApiParts.Json, out var media))
                {
                    SetExamples(media, answers);
                }
            }
        }
    }

    // Content maps hold the interface; the generator creates concrete media types, which are writable.
    private static void SetRequestExample(IOpenApiMediaType media, string json) => SetExamples(media, [json]);

    /// <summary>
    /// One answer as the example; several as named examples, since one status has many answers: an error by its
    /// error_code, a message status by its delivery_status.
    /// </summary>
    private static void SetExamples(IOpenApiMediaType media, IReadOnlyList<string> answers)
    {
        if (media is not OpenApiMediaType writable)
        {
            return;
        }

        writable.Example = answers.Count == 1 ? JsonNode.Parse(answers[0]) : null;
        writable.Examples = answers.Count == 1 ? null : answers.Select(answer => JsonNode.Parse(answer)).ToDictionary(
            answer => (answer?["error_code"] ?? answer?["delivery_status"])?.GetValue<string>() ?? "success",
            answer => (IOpenApiExample)new OpenApiExample { Value = answer });
    }
}
