using Microsoft.OpenApi;

namespace TwaBot.Api.OpenApi;

public static class OpenApiExtensions
{
    public const string DocumentName = "v1";

    /// <summary>The OpenAPI document of every mapped route, with the key schemes and the seed's examples.</summary>
    public static IServiceCollection AddTwaBotOpenApi(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc(DocumentName, new OpenApiInfo
            {
                Title = "TwaBot REST API",
                Version = DocumentName,
                Description = "Send WhatsApp template, text, media and OTP messages through Meta's WhatsApp Cloud API, " +
                    "and track their delivery. Authenticate /api/v1 calls with X-API-Key and /admin/v1 calls with X-Admin-Key.",
            });
            options.AddSecurityDefinition(SecuritySchemes.ApiKey, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = "X-API-Key",
                Description = "Your API key (twb_live_… or twb_test_…).",
            });
            options.AddSecurityDefinition(SecuritySchemes.ApiKeyInQuery, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Query,
                Name = ApiKeys.ApiKeyAuthenticationHandler.QueryName,
                Description = "quick-send only: the API key in the URL, for form builders that cannot set headers (X-API-Key also works).",
            });
            options.AddSecurityDefinition(SecuritySchemes.AdminKey, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = "X-Admin-Key",
                Description = "The server's admin key (TwaBot:AdminKey; during a rotation, TwaBot:PreviousAdminKey too).",
            });
            // Swashbuckle's own rule (a route's group is this document or none), and HEAD only implied by GET.
            options.DocInclusionPredicate((document, description) =>
                !HttpMethods.IsHead(description.HttpMethod ?? "") && (description.GroupName is null || description.GroupName == document));
            options.SupportNonNullableReferenceTypes();
            MapPatchFields(options);
            options.OperationFilter<SecurityRequirementFilter>();
            options.OperationFilter<RequestBodyFilter>();
            options.OperationFilter<QueryParametersFilter>();
            options.OperationFilter<ExamplesFilter>();
            options.OperationFilter<IdempotencyKeyFilter>();
            options.OperationFilter<CommonAnswersFilter>();
            options.DocumentFilter<AnswerFieldsRequiredFilter>();
            options.DocumentFilter<TagDescriptionsFilter>();
            options.SchemaFilter<ReadingRulesSchemaFilter>();
            options.SchemaFilter<PrimaryErrorMessageSchemaFilter>();
            options.SchemaFilter<ErrorCodesSchemaFilter>();
        });
        return services;
    }

    /// <summary>A PATCH field is documented as its value: absent means unchanged, null clears.</summary>
    private static void MapPatchFields(Swashbuckle.AspNetCore.SwaggerGen.SwaggerGenOptions options)
    {
        options.MapType<Json.PatchField<string>>(() => new OpenApiSchema { Type = JsonSchemaType.String });
        options.MapType<Json.PatchField<int?>>(() => new OpenApiSchema { Type = JsonSchemaType.Integer | JsonSchemaType.Null, Format = "int32" });
        options.MapType<Json.PatchField<DateTime?>>(() => new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null, Format = "date-time" });
        options.MapType<Json.PatchField<List<string>>>(() => new OpenApiSchema
        {
            Type = JsonSchemaType.Array,
            Items = new OpenApiSchema { Type = JsonSchemaType.String },
        });
    }

    public static WebApplication UseTwaBotOpenApi(this WebApplication app)
    {
        // The server that answers the document is the one its operations are on (behind a proxy too, with
        // forwarded headers on): clients generated from it, and "Try it out", need no base URL of their own.
        app.UseSwagger(options => options.PreSerializeFilters.Add((document, request) =>
            document.Servers = [new OpenApiServer { Url = $"{request.Scheme}://{request.Host}{request.PathBase}" }]));
        app.UseSwaggerUI(options => options.DocumentTitle = "TwaBot REST API");
        return app;
    }

    /// <summary>Declares error statuses an endpoint (or group) answers with the envelope.</summary>
    public static TBuilder ProducesErrors<TBuilder>(this TBuilder builder, params int[] statusCodes)
        where TBuilder : IEndpointConventionBuilder
    {
        foreach (var status in statusCodes)
        {
            builder.WithMetadata(new ProducesResponseTypeMetadata(status, typeof(Errors.ErrorBody), ["application/json"]));
        }

        return builder;
    }

    /// <summary>
    /// Takes out of an endpoint's document statuses that inferred or group-wide metadata lists but it cannot answer:
    /// every handler that may return an ApiError is inferred to answer 400, and every admin call 404, yet a read by id
    /// only answers 404 and a create of a new business no 404.
    /// </summary>
    public static TBuilder NeverAnswers<TBuilder>(this TBuilder builder, params int[] statusCodes)
        where TBuilder : IEndpointConventionBuilder
    {
        // Finally: after the handler's inferred metadata and the group's conventions have been added.
        builder.Finally(endpoint =>
        {
            foreach (var listed in endpoint.Metadata.OfType<Microsoft.AspNetCore.Http.Metadata.IProducesResponseTypeMetadata>().Where(m => statusCodes.Contains(m.StatusCode)).ToList())
            {
                endpoint.Metadata.Remove(listed);
            }
        });
        return builder;
    }

    /// <summary>An endpoint that reads a JSON body: 413 over the body limit, 415 for a body that is not JSON.</summary>
    public static TBuilder ReadsJsonBody<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.ProducesErrors(StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType);

    /// <summary>
    /// Documents a JSON body the endpoint reads itself. (Accepts&lt;T&gt; would also make routing
    /// refuse requests without a JSON Content-Type, which CRMs often leave out.)
    /// </summary>
    public static TBuilder WithRequestBody<TBody, TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new OpenApiRequestBodyType(typeof(TBody)));

    /// <summary>
    /// Attaches request and response examples (raw JSON) to an endpoint's OpenAPI operation; a status given several
    /// answers shows each, named by its error_code.
    /// </summary>
    public static TBuilder WithExamples<TBuilder>(this TBuilder builder, string? request = null, params (int Status, string Json)[] responses)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new OpenApiExamples(request,
            responses.GroupBy(r => r.Status).ToDictionary(g => g.Key, g => (IReadOnlyList<string>)[.. g.Select(r => r.Json)])));
}

public static class SecuritySchemes
{
    public const string ApiKey = "ApiKey";
    public const string ApiKeyInQuery = "ApiKeyInQuery";
    public const string AdminKey = "AdminKey";
}
