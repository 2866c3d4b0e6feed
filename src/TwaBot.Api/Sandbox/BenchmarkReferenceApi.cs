using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Data;
using TwaBot.Api.Errors;
using TwaBot.Api.Json;
using TwaBot.Api.Meta;
using TwaBot.Api.Sending;

namespace TwaBot.Api.Sandbox;

/// <summary>
/// What bench/TwaBot.Bench measures the server against, in the same process and the same run:
/// <c>POST /sandbox/v1/reference/send</c> makes the same Meta call as send-template with no checks and
/// no database, and <c>POST /sandbox/v1/reference/ok</c> only answers 200. Mapped only in sandbox
/// mode with <c>TwaBot:Sandbox:BenchmarkReferences</c>; not part of the API, so not in OpenAPI.
/// </summary>
public static class BenchmarkReferenceApi
{
    /// <summary>Marks the reference's sends, so the emulator reports no statuses for them.</summary>
    public const string CallbackData = "twb-bench:reference";

    public static void MapBenchmarkReferences(this IEndpointRouteBuilder app)
    {
        var reference = app.MapGroup("/sandbox/v1/reference").ExcludeFromDescription();
        reference.MapPost("/send", Send);
        reference.MapPost("/ok", Ok);
    }

    private static async Task<Results<Ok<ReferenceSendResponse>, ApiError>> Send(
        HttpRequest request, BenchmarkReferenceConnection connection, MetaClient meta, CancellationToken cancellationToken)
    {
        var body = await JsonSerializer.DeserializeAsync(request.Body, TwaBotJsonContext.Default.SendTemplateRequest, cancellationToken);
        if (await connection.GetAsync(cancellationToken) is not { } sandbox)
        {
            return ApiErrors.WhatsAppNotConnected();
        }

        var message = MetaOutgoingMessage.Template(
            body?.Phone ?? "", body?.TemplateName ?? "", body?.Language ?? SendValidation.DefaultLanguage,
            body?.BodyParams ?? [], body?.HeaderParams ?? [], CallbackData);
        // As the real dispatcher does: once Meta may have the message, wait for its answer.
        return await meta.SendAsync(sandbox, message, CancellationToken.None) is MetaSendResult.Accepted accepted
            ? TypedResults.Ok(new ReferenceSendResponse(accepted.Wamid))
            : ApiErrors.MetaUnavailable(mayHaveBeenSent: true);
    }

    private static async Task<Ok<OkResponse>> Ok(HttpRequest request, CancellationToken cancellationToken)
    {
        await request.Body.CopyToAsync(Stream.Null, cancellationToken);
        return TypedResults.Ok(OkResponse.Instance);
    }
}

/// <summary>
/// The sandbox business's WhatsApp connection (the first sandbox connection), read once: the
/// reference does no database work per request.
/// </summary>
public sealed class BenchmarkReferenceConnection(IServiceScopeFactory scopes, Businesses.AccessTokenProtector tokens)
{
    private MetaConnection? _connection;

    public async ValueTask<MetaConnection?> GetAsync(CancellationToken cancellationToken)
    {
        if (_connection is { } cached)
        {
            return cached;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
        var found = await db.WhatsAppConnections.AsNoTracking().Where(w => w.IsSandbox)
            .OrderBy(w => w.BusinessId).FirstOrDefaultAsync(cancellationToken);
        // Concurrent first calls may both read; they find the same row.
        return _connection = found is null ? null : MetaConnection.Open(found, tokens);
    }
}

public sealed record ReferenceSendResponse(string MessageId) : SuccessResponse;
