namespace TwaBot.Api.Sending.Idempotency;

/// <summary>A kept answer given again: its status and body as first sent, marked <c>Idempotent-Replayed: true</c>.</summary>
public sealed class IdempotentReplay(int statusCode, byte[] body) : IResult
{
    public const string HeaderName = "Idempotent-Replayed";

    public int StatusCode { get; } = statusCode;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var response = httpContext.Response;
        response.StatusCode = StatusCode;
        response.Headers[HeaderName] = "true";
        response.ContentType = "application/json; charset=utf-8";
        await response.Body.WriteAsync(body, httpContext.RequestAborted);
    }
}
