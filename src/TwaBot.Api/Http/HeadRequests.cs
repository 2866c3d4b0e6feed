namespace TwaBot.Api.Http;

/// <summary>
/// HEAD is answered wherever GET is, as HTTP asks of every server (RFC 9110 §9.3.2: the GET's status and
/// headers, no body; Kestrel drops the body), so <c>curl -I</c> and uptime monitors get the real answer
/// instead of 405. Not on a GET that changes something (quick-send sends a message): a HEAD must be safe,
/// so such a route is marked with <see cref="GetChangesState"/> and answers HEAD with 405.
/// The OpenAPI document lists GET only; HEAD is implied.
/// </summary>
public static class HeadRequests
{
    private static readonly HttpMethodMetadata GetOrHead = new([HttpMethods.Get, HttpMethods.Head]);

    public static TBuilder AnswerHeadWhereGetIs<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        // Finally: after each endpoint's own conventions, so the quick-send mark is there to be seen.
        builder.Finally(static endpoint =>
        {
            var methods = endpoint.Metadata.OfType<IHttpMethodMetadata>().LastOrDefault();
            if (methods is { HttpMethods: [var only] } && HttpMethods.IsGet(only)
                && !endpoint.Metadata.OfType<GetChangesStateMetadata>().Any())
            {
                endpoint.Metadata.Add(GetOrHead); // routing reads the last method metadata
            }
        });
        return builder;
    }

    /// <summary>This GET is not safe (it sends): HEAD stays unanswered (405).</summary>
    public static RouteHandlerBuilder GetChangesState(this RouteHandlerBuilder builder) =>
        builder.WithMetadata(new GetChangesStateMetadata());

    private sealed class GetChangesStateMetadata;
}
