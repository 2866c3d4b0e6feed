using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using TwaBot.Api.Errors;

namespace TwaBot.Api.Admin;

/// <summary>
/// Authenticates <c>/admin/v1</c> requests by the <c>X-Admin-Key</c> header. Wrong admin keys count
/// against the client address's failed-authentication budget, as wrong API keys do: past it, every
/// further attempt from that address gets 429 until the minute ends, so the key cannot be guessed at speed.
/// </summary>
internal sealed class AdminKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    AdminKeyProvider adminKey,
    RateLimiting.FailedAuthenticationLimiter failedAuthentication) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "AdminKey";
    public const string HeaderName = "X-Admin-Key";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers[HeaderName];
        if (header.Count != 1 || string.IsNullOrEmpty(header[0]))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var client = Context.Connection.RemoteIpAddress;
        if (failedAuthentication.BlockedFor(client) is { } retryAfter)
        {
            return Task.FromResult(AuthenticateResult.Fail(new ApiKeys.ApiKeyRejectedException(ApiErrors.WrongKeysRateLimited(retryAfter))));
        }

        if (!adminKey.Matches(header[0]!))
        {
            failedAuthentication.RecordFailure(client);
            return Task.FromResult(AuthenticateResult.Fail("Wrong admin key."));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Role, "admin")], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        await ApiKeys.ApiKeyRejectedException.AnswerOf(await HandleAuthenticateOnceSafeAsync(), ApiErrors.AdminUnauthorized()).ExecuteAsync(Context);
    }
}
