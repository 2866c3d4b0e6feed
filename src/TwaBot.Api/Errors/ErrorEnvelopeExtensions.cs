namespace TwaBot.Api.Errors;

/// <summary>
/// Wires the envelope into the pipeline: exceptions, bodiless status codes, and the body caps for all that follows (the
/// 413 by Content-Length comes after the keys, Program.cs).
/// </summary>
public static class ErrorEnvelopeExtensions
{
    public static IServiceCollection AddErrorEnvelope(this IServiceCollection services)
    {
        services.AddExceptionHandler<ApiExceptionHandler>();
        // Bad JSON and missing parameters throw, so the exception handler can answer in the envelope.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        return services;
    }

    public static WebApplication UseErrorEnvelope(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            // Reached only if the handler above could not answer.
            ExceptionHandler = context => ApiErrors.Internal().ExecuteAsync(context),
            SuppressDiagnosticsCallback = _ => true,
        });
        app.UseStatusCodePages(context => EnvelopeFor(context.HttpContext).ExecuteAsync(context.HttpContext));
        app.UseRequestBodyCaps();
        return app;
    }

    private static ApiError EnvelopeFor(HttpContext context)
    {
        var request = context.Request;
        // Only an asterisk-form request (`OPTIONS *`) has no path; name it as it was sent.
        var path = request.Path.HasValue ? request.Path.Value! : "*";
        return context.Response.StatusCode switch
        {
            StatusCodes.Status404NotFound => ApiErrors.RouteNotFound(request.Method, path, RouteMeant(context, path)),
            StatusCodes.Status405MethodNotAllowed => ApiErrors.MethodNotAllowed(request.Method, path, context.Response.Headers.Allow.ToString()),
            StatusCodes.Status413PayloadTooLarge => ApiErrors.PayloadTooLarge(RequestBodyLimits.LimitFor(request)),
            StatusCodes.Status415UnsupportedMediaType => ApiErrors.UnsupportedMediaType(),
            var status => ApiErrors.ForStatus(status),
        };
    }

    /// <summary>
    /// The documented routes a path no route takes was likely meant for (RouteGuesses), or null. A value the path leaves
    /// out is taken from the query parameter of its name in any style (message_id= for {messageId}): a GET-only tool
    /// puts it there, as quick-send takes its values.
    /// </summary>
    private static string? RouteMeant(HttpContext context, string path)
    {
        var routes = context.RequestServices.GetService<EndpointDataSource>()?.Endpoints.OfType<RouteEndpoint>()
            .Where(endpoint => endpoint.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is not { ExcludeFromDescription: true })
            .Select(endpoint => endpoint.RoutePattern) ?? [];
        var query = context.Request.Query;
        var guesses = Http.RouteGuesses.For(path, routes, name => query
            .Where(parameter => Http.LooseNames.Of(parameter.Key) == Http.LooseNames.Of(name) && parameter.Value.Count == 1)
            .Select(parameter => parameter.Value.ToString())
            .FirstOrDefault());
        return guesses.Count == 0 ? null : string.Join(" or ", guesses);
    }
}
