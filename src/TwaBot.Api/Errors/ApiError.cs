using System.Globalization;
using Microsoft.AspNetCore.Http.Metadata;
using TwaBot.Api.Json;

namespace TwaBot.Api.Errors;

/// <summary>
/// An error answer: a status code and the envelope body, optionally with a <c>Retry-After</c>.
/// Built only through <see cref="ApiErrors"/>, so every body comes from one place.
/// </summary>
public sealed class ApiError : IResult, IStatusCodeHttpResult, IValueHttpResult, IValueHttpResult<ErrorBody>, IEndpointMetadataProvider
{
    internal ApiError(int statusCode, ErrorBody body, int? retryAfterSeconds = null)
    {
        StatusCode = statusCode;
        Body = body;
        RetryAfterSeconds = retryAfterSeconds;
    }

    public int StatusCode { get; }

    public ErrorBody Body { get; }

    /// <summary>Seconds for the <c>Retry-After</c> header, when the client should wait.</summary>
    public int? RetryAfterSeconds { get; }

    int? IStatusCodeHttpResult.StatusCode => StatusCode;

    ErrorBody? IValueHttpResult<ErrorBody>.Value => Body;

    object? IValueHttpResult.Value => Body;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var response = httpContext.Response;
        response.StatusCode = StatusCode;
        // On the request's log line: a 401 or a 429 has several causes, which support tells apart only by the code
        // the client got; a send whose outcome is unknown, by the id the client follows it with.
        var diagnostics = httpContext.RequestServices.GetService<Serilog.IDiagnosticContext>();
        diagnostics?.Set("ErrorCode", Body.ErrorCode);
        if (Body.MessageId is { } messageId)
        {
            diagnostics?.Set("MessageId", messageId);
        }

        if (RetryAfterSeconds is { } seconds)
        {
            response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }

        response.ContentType = "application/json; charset=utf-8";
        await System.Text.Json.JsonSerializer.SerializeAsync(response.Body, Body, JsonExtensions.Options, httpContext.RequestAborted);
    }

    /// <summary>Describes the envelope for OpenAPI; the status codes are declared per endpoint.</summary>
    public static void PopulateMetadata(System.Reflection.MethodInfo method, EndpointBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status400BadRequest, typeof(ErrorBody), ["application/json"]));
    }
}
