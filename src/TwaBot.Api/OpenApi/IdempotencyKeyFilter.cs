using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace TwaBot.Api.OpenApi;

/// <summary>The optional <c>Idempotency-Key</c> of sends (quick-send's <c>idempotency_key</c>), and the header that marks a kept answer given again.</summary>
internal sealed class IdempotencyKeyFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (!context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<AcceptsIdempotencyKey>().Any())
        {
            return;
        }

        operation.Parameters ??= [];
        const string WhatItDoes = "Retried with the same key and the same request within 24 hours, a send that Meta accepted, or may have, gets its first "
            + "answer again (or, if the server stopped before keeping it or cannot decrypt what it kept, 502 META_UNAVAILABLE with the message's id) "
            + "and sends nothing; a send refused (before Meta or by it) keeps nothing, so a retry tries again. "
            + "The same key for another request: 422 (the same JSON with its fields in another order or other spacing is the same request); "
            + "while the first is under way: 409. Keys belong to the API key.";
        // quick-send takes the key in its query too. The header is not listed beside it: generators that change a name's
        // case make both one (openapi-typescript-codegen's two idempotencyKey arguments do not compile); it is still read.
        if (operation.Parameters.OfType<OpenApiParameter>().FirstOrDefault(p =>
                p.In == ParameterLocation.Query && p.Name == Sending.Idempotency.IdempotencyRequest.QueryName) is { } inQuery)
        {
            inQuery.Description += " " + WhatItDoes;
            if (inQuery.Schema is OpenApiSchema querySchema)
            {
                querySchema.MaxLength = Sending.Idempotency.IdempotencyRequest.MaxLength; // held to the header's rule
            }
        }
        else
        {
            operation.Parameters.Insert(0, new OpenApiParameter
            {
                Name = Sending.Idempotency.IdempotencyRequest.HeaderName,
                In = ParameterLocation.Header,
                Description = "Optional: a key of your own (1 to 255 printable ASCII characters; a UUID is a good one) that makes a retry safe. " + WhatItDoes,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = Sending.Idempotency.IdempotencyRequest.MaxLength },
            });
        }

        foreach (var (status, response) in operation.Responses ?? [])
        {
            if (response is OpenApiResponse writable && (status == "200" || status.StartsWith('5')))
            {
                OpenApiParts.AddHeader(writable, Sending.Idempotency.IdempotentReplay.HeaderName,
                    "true when this is the kept answer to an earlier request with the same Idempotency-Key; absent otherwise.", JsonSchemaType.String);
            }
        }
    }
}
