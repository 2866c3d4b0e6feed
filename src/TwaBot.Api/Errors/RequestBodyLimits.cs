using Microsoft.AspNetCore.Http.Features;

namespace TwaBot.Api.Errors;

/// <summary>
/// Request bodies are small on the API and admin routes (a send is a few hundred bytes; a suppression import, 4 MB) and up to
/// Meta's 3 MB on webhooks. Oversized bodies get a 413 envelope, after the keys are checked and before anything reads them;
/// Kestrel reads no more than the limit of a body nothing reads.
/// </summary>
public static class RequestBodyLimits
{
    public const long ApiBytes = 64 * 1024;
    public const long WebhookBytes = 3 * 1024 * 1024;
    public const long SuppressionImportBytes = 4 * 1024 * 1024;

    /// <summary>
    /// Webhooks take Meta's 3 MB, and so does the sandbox's Graph API: what it receives is the server's own Meta
    /// calls, whose JSON (non-ASCII escaped as \uXXXX) can be several times the caller's 64 KB. A suppression import
    /// takes 4 MB: its 1000 entries with reasons of 500 characters in any script, even from a client that escapes every
    /// character beyond ASCII as \uXXXX (6 bytes each, about 3.1 MB in all), as .NET's and Python's serializers do by default.
    /// </summary>
    public static long LimitFor(HttpRequest request) => LimitFor(request.Method, request.Path);

    /// <inheritdoc cref="LimitFor(HttpRequest)"/>
    internal static long LimitFor(string method, PathString path) =>
        path.StartsWithSegments("/webhooks", StringComparison.OrdinalIgnoreCase)
            || path.StartsWithSegments("/sandbox/graph", StringComparison.OrdinalIgnoreCase) ? WebhookBytes
        // Only the POST: GET and DELETE of that path are /suppressions/{phone} with phone "import", which read no body.
        : HttpMethods.IsPost(method) && IsSuppressionImport(path) ? SuppressionImportBytes
        : ApiBytes;

    /// <summary>
    /// POST /admin/v1/businesses/{id}/suppressions/import, as routing matches it (any case, a trailing slash, and an id
    /// as the <c>{id:long}</c> constraint reads it: "+7" and " 7" are business 7 too, a number beyond a long no route).
    /// </summary>
    private static bool IsSuppressionImport(PathString path) =>
        path.StartsWithSegments("/admin/v1/businesses", StringComparison.OrdinalIgnoreCase, out var rest)
        && rest.Value!.TrimEnd('/').Split('/') is ["", var id, var list, var import]
        && long.TryParse(id, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out _)
        && list.Equals("suppressions", StringComparison.OrdinalIgnoreCase) && import.Equals("import", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Caps what Kestrel will read of the body at the route's limit, before anything else runs: a body the server never
    /// reads (a caller without a key gets 401 first) is drained only that far before the connection is closed, not up to
    /// Kestrel's own 30 MB. A chunked body, whose length is not known up front, is cut at the limit too; but Kestrel counts
    /// each chunk's size line and line ends against its cap, so it gets an eighth more for them there (enough for chunks of
    /// 64 bytes or more), and its own bytes are counted to the limit as they are read (<see cref="CountedBody"/>).
    /// </summary>
    public static IApplicationBuilder UseRequestBodyCaps(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            var limit = LimitFor(context.Request);
            var chunked = context.Request.ContentLength is null && context.Request.Headers.TransferEncoding.Count > 0;
            feature.MaxRequestBodySize = chunked ? limit + limit / 8 : limit;
            if (chunked)
            {
                context.Request.Body = new CountedBody(context.Request.Body, limit);
            }
        }

        return next(context);
    });

    /// <summary>A chunked body's own bytes, refused as Kestrel refuses a body over its cap once they pass the limit.</summary>
    private sealed class CountedBody(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Counted(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Counted(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Counted(int read)
        {
            _read += read;
            if (_read > limit)
            {
                throw new BadHttpRequestException("Request body too large.", StatusCodes.Status413PayloadTooLarge);
            }

            return read;
        }

        public override void Flush() => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>
    /// The 413 for a Content-Length over the route's limit; after the keys, so a caller without one learns no body rule. Only
    /// for a route of ours that reads a body (its document lists the 413: <see cref="OpenApi.OpenApiExtensions.ReadsJsonBody"/>):
    /// a path no route takes (404), a method none takes (routing's own 405) or a route that reads none (a GET) is answered
    /// for what it is, where a 413 would have the caller shrink a body that nothing reads. Kestrel reads no more of that
    /// body than the cap (<see cref="UseRequestBodyCaps"/>).
    /// </summary>
    public static IApplicationBuilder UseRequestBodyLimits(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        // Over the smallest limit first: a send's body is not measured against its route's limit twice (UseRequestBodyCaps did).
        if (context.Request.ContentLength is > ApiBytes and var length && LimitFor(context.Request) is var limit && length > limit
            && context.GetEndpoint() is RouteEndpoint endpoint && ReadsABody(endpoint))
        {
            await ApiErrors.PayloadTooLarge(limit).ExecuteAsync(context);
            return;
        }

        await next(context);
    });

    private static bool ReadsABody(Endpoint endpoint) =>
        endpoint.Metadata.OfType<Microsoft.AspNetCore.Http.Metadata.IProducesResponseTypeMetadata>()
            .Any(answer => answer.StatusCode == StatusCodes.Status413PayloadTooLarge);
}
