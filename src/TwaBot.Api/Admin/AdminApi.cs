using Microsoft.Extensions.Options;
using TwaBot.Api.ApiKeys;
using TwaBot.Api.Configuration;
using TwaBot.Api.Data;
using TwaBot.Api.OpenApi;

namespace TwaBot.Api.Admin;

/// <summary>The dashboard's jobs as JSON (PRODUCT.md §6), behind <c>X-Admin-Key</c>.</summary>
public static class AdminApi
{
    public static IServiceCollection AddAdminApi(this IServiceCollection services)
    {
        services.AddSingleton<AdminTurns>();
        return services;
    }

    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin/v1")
            .RequireAuthorization(ApiKeyAuthenticationExtensions.AdminPolicy)
            .WithTags("Admin")
            .WithMetadata(new AdminKeySecurity())
            .ProducesErrors(StatusCodes.Status401Unauthorized, StatusCodes.Status404NotFound, StatusCodes.Status429TooManyRequests) // 429: wrong keys from the address
            .WithExamples(responses: (StatusCodes.Status401Unauthorized, SeedExamples.AdminUnauthorized));
        var writesInTurn = admin.MapGroup("").AddEndpointFilter<AdminWritesTakeTheWriteGate>();
        writesInTurn.MapBusinessesAdmin();
        admin.MapWhatsAppAdmin(); // a connect asks Meta first, so connects and disconnects take the gate only to write (WhatsAppAdmin)
        writesInTurn.MapApiKeysAdmin();
        writesInTurn.MapSuppressionsAdmin();
        // Template calls wait on Meta, so they queue per business instead (TemplatesAdmin) and take the gate only to write.
        admin.MapTemplatesAdmin();
        return app;
    }
}

/// <summary>
/// An admin write reads, checks and writes in turn with every other writer of the database: other admin
/// writes (twenty PATCHes of one business at once each read the same row, and a plan from one could end
/// up beside a time zone from another, with the day's counts moved to a zone that lost), the webhook
/// processor (a customer's STOP and an admin's suppression of the same phone) and the sends' rows.
/// Admin writes are rare and short, so one at a time costs nothing.
/// </summary>
internal sealed class AdminWritesTakeTheWriteGate(SqliteWriteGate gate) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var method = context.HttpContext.Request.Method;
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method)) // reads do not queue
        {
            return await next(context);
        }

        using var turn = await gate.EnterAsync(context.HttpContext.RequestAborted);
        return await next(context);
    }
}

/// <summary>
/// The admin calls that wait on Meta and so queue per business rather than take the write gate whole. One server's own:
/// test servers in one process, each with its own database, do not wait on each other's business 1.
/// </summary>
internal sealed class AdminTurns
{
    /// <summary>
    /// One template create or sync at a time per business (they are rare admin calls): two at once read the
    /// same rows and both insert the same name and language, which the unique index refuses. Their rows are written
    /// in turn with the database's other writers (<see cref="SqliteWriteGate"/>), but Meta is asked outside it:
    /// written beside the sends' commits, they met them in Microsoft.Data.Sqlite's busy loop, which tries again every
    /// 150 ms, and a send commit that met one waited there too, holding up every send behind the gate.
    /// </summary>
    public BusinessTurns TemplateWrites { get; } = new();

    /// <summary>
    /// A business's connects and disconnects, one at a time, each kept in the order sent: two connects at once (a script
    /// retrying, two operators) were written in the order Meta answered their checks, so the connect sent first could be
    /// the one kept, its token with it (GET never shows a token), and a disconnect sent while a connect waited for Meta
    /// was undone by that connect's write.
    /// </summary>
    public BusinessTurns Connects { get; } = new();
}

/// <summary>What admin handlers need, bound in one parameter.</summary>
internal sealed record AdminServices(
    TwaBotDbContext Db,
    TimeProvider Time,
    ApiKeyDirectory Keys,
    RateLimiting.DailyQuota Quota,
    ServerMode Mode,
    IOptions<TwaBotOptions> Options,
    Businesses.AccessTokenProtector Tokens,
    Meta.MetaTokenRefusals TokenRefusals,
    SqliteWriteGate Gate,
    AdminTurns Turns,
    ILoggerFactory Loggers)
{
    public DateTime Now => Time.GetUtcNow().UtcDateTime;

    /// <summary>
    /// Saves the context's changes holding the write gate: for the template calls, which are not written in turn as a
    /// whole since they wait on Meta (TemplatesAdmin).
    /// </summary>
    public async Task SaveInTurnAsync(CancellationToken cancellationToken)
    {
        using (await Gate.EnterAsync(cancellationToken))
        {
            await Db.SaveChangesAsync(cancellationToken);
        }
    }

    /// <summary>The admin API's log: one line for each change an operator may have to trace (a key revoked, a number moved).</summary>
    public ILogger Log => Loggers.CreateLogger("TwaBot.Api.Admin");
}

/// <summary>The admin changes that decide who may send and where webhooks go, each named by its ids (never a key or token; the redaction would take a key's prefix for a key).</summary>
internal static partial class AdminLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "API key {ApiKeyId} created for business {BusinessId}")]
    public static partial void KeyCreated(ILogger logger, long apiKeyId, long businessId);

    [LoggerMessage(Level = LogLevel.Information, Message = "API key {ApiKeyId} of business {BusinessId} revoked")]
    public static partial void KeyRevoked(ILogger logger, long apiKeyId, long businessId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Business {BusinessId} connected to WhatsApp number {PhoneNumberId} (WABA {WabaId}, sandbox {Sandbox})")]
    public static partial void Connected(ILogger logger, long businessId, string phoneNumberId, string wabaId, bool sandbox);

    // The admin's answer says why; the log keeps which connect Meta's check refused, for the operator.
    [LoggerMessage(Level = LogLevel.Warning, Message = "Business {BusinessId} was not connected to WhatsApp number {PhoneNumberId} (WABA {WabaId}): Meta's check failed ({Reason})")]
    public static partial void ConnectRefused(ILogger logger, long businessId, string phoneNumberId, string wabaId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Business {BusinessId} disconnected from WhatsApp number {PhoneNumberId}")]
    public static partial void Disconnected(ILogger logger, long businessId, string phoneNumberId);
}
