using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using IDiagnosticContext = Serilog.IDiagnosticContext;
using TwaBot.Api.Errors;

namespace TwaBot.Api.Admin;

/// <summary>
/// Authenticates <c>/admin/v1</c> requests by the <c>X-Admin-Key</c> header. Wrong admin keys count
/// against the client address's failed-authentication budget, as wrong API keys do: past it, every
/// further attempt from that address gets 429 until the minute ends, so the key cannot be guessed at speed.
/// During a rotation the previous key is accepted too, and its calls are marked in the log.
/// </summary>
internal sealed partial class AdminKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    AdminKeyProvider adminKey,
    RateLimiting.FailedAuthenticationLimiter failedAuthentication,
    IDiagnosticContext diagnostics) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "AdminKey";
    public const string HeaderName = "X-Admin-Key";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        // A blank header (an empty variable in a script) counts as none, as a blank X-API-Key does: no guess is counted, and
        // beside the key it is no second key. Two keys (a proxy adding its own beside the script's) are no guess either.
        // Values are not split at commas, as X-API-Key's are: an admin key may hold one.
        var header = Request.Headers[HeaderName].Where(value => !string.IsNullOrWhiteSpace(value)).ToArray();
        if (header.Length == 0)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (header.Length > 1)
        {
            // Said as such, as for two API keys: "a valid admin key is required" reads as wrong beside the right one.
            return Task.FromResult(AuthenticateResult.Fail(new ApiKeys.ApiKeyRejectedException(ApiErrors.AdminKeyGivenTwice())));
        }

        var client = Context.Connection.RemoteIpAddress;
        if (failedAuthentication.BlockedFor(client) is { } retryAfter)
        {
            return Task.FromResult(ApiKeys.ApiKeyRejectedException.WrongKeysRefusal(diagnostics, retryAfter));
        }

        var match = adminKey.Match(header[0]!);
        if (match == AdminKeyMatch.None)
        {
            if (failedAuthentication.RecordFailure(client) is { } overLimit)
            {
                // Checked above with others sent at once, and counted past the limit.
                return Task.FromResult(ApiKeys.ApiKeyRejectedException.WrongKeysRefusal(diagnostics, overLimit));
            }

            return Task.FromResult(AuthenticateResult.Fail("Wrong admin key."));
        }

        if (match == AdminKeyMatch.Previous)
        {
            // Every such request line says so; the warning, once a minute, is what an operator watching for it sees.
            diagnostics.Set("AdminKey", "previous");
            if (adminKey.FirstPreviousKeyUseThisMinute())
            {
                LogPreviousKeyUsed(Logger, client?.ToString() ?? "unknown", Request.Method, Request.Path.Value ?? "");
            }
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Role, "admin")], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        await ApiKeys.ApiKeyRejectedException.AnswerOf(await HandleAuthenticateOnceSafeAsync(), ApiErrors.AdminUnauthorized()).ExecuteAsync(Context);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "An admin call ({Method} {Path}) from {ClientAddress} used TwaBot:PreviousAdminKey; "
        + "give every script the new TwaBot:AdminKey, then remove TwaBot:PreviousAdminKey and restart (request lines with AdminKey = previous are such calls)")]
    private static partial void LogPreviousKeyUsed(ILogger logger, string clientAddress, string method, string path);
}
