using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Serilog;
using TwaBot.Api.Configuration;
using TwaBot.Api.Errors;
using TwaBot.Api.Http;
using TwaBot.Api.RateLimiting;

namespace TwaBot.Api.ApiKeys;

/// <summary>
/// Authenticates <c>/api/v1</c> requests by <c>X-API-Key</c> (or <c>apikey</c> on endpoints marked
/// <see cref="ApiKeyInQueryAttribute"/>) and answers every 401 of PRODUCT.md §2 in the envelope.
/// Addresses that present too many wrong keys get 429 before their key is even looked at.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyDirectory directory,
    ApiKeyUsage usage,
    ServerMode mode,
    TimeProvider time,
    FailedAuthenticationLimiter failedAuthentication,
    IDiagnosticContext diagnostics) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-API-Key";
    public const string QueryName = "apikey";

    private bool QueryAllowed => Context.GetEndpoint()?.Metadata.GetMetadata<ApiKeyInQueryAttribute>() is not null;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = PresentedKey();
        if (presented is null)
        {
            return AuthenticateResult.NoResult();
        }

        if (presented.Length == 0)
        {
            // Two keys (a proxy adding its own beside the client's): a setup error, not a guess, so it answers
            // as such and does not count against the address, which would lock its other clients out too.
            return Reject(ApiErrors.ApiKeyGivenTwice(HeaderKeys().Length > 0 ? HeaderName : QueryName));
        }

        var client = Context.Connection.RemoteIpAddress;
        if (failedAuthentication.BlockedFor(client) is { } retryAfter)
        {
            return ApiKeyRejectedException.WrongKeysRefusal(diagnostics, retryAfter);
        }

        var result = await AuthenticateKeyAsync(presented);
        if (result.Failure is not null && IsGuess(presented, result.Failure)
            && failedAuthentication.RecordFailure(client) is { } overLimit)
        {
            // Checked above with others sent at once, and counted past the limit while its key was looked up.
            return ApiKeyRejectedException.WrongKeysRefusal(diagnostics, overLimit);
        }

        return result;
    }

    private async Task<AuthenticateResult> AuthenticateKeyAsync(string presented)
    {
        if (AuthorizationScheme(presented) is { } scheme)
        {
            return Reject(ApiErrors.ApiKeyWithScheme(scheme)); // an Authorization habit: a setup error, and no key is looked up
        }

        if (!ApiKeyFormat.IsWellFormed(presented, out var prefix))
        {
            return Reject(ApiErrors.InvalidApiKey());
        }

        if (prefix != mode.ApiKeyPrefix)
        {
            // A sandbox key must never send real messages, nor a live key fake ones.
            return Reject(ApiErrors.WrongModeApiKey(mode.ApiKeyPrefix));
        }

        var hash = ApiKeyFormat.Hash(presented);
        var found = new ApiKeyFound(hash, directory.Generation);
        var caller = await directory.FindAsync(hash, Context.RequestAborted);
        if (caller is null)
        {
            return Reject(ApiErrors.InvalidApiKey());
        }

        // Set for a refused key too: after a rotation, the request line tells which client still sends the old key.
        diagnostics.Set("ApiKeyId", caller.KeyId);
        diagnostics.Set("BusinessId", caller.BusinessId);
        if (caller.RevokedAt is not null)
        {
            return Reject(ApiErrors.ApiKeyRevoked());
        }

        if (caller.ExpiresAt is { } expiresAt && expiresAt <= time.GetUtcNow().UtcDateTime)
        {
            return Reject(ApiErrors.ApiKeyExpired());
        }

        await usage.RecordAsync(caller.KeyId);
        Context.Features.Set(caller);
        Context.Features.Set(found);

        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, caller.KeyId.ToString(System.Globalization.CultureInfo.InvariantCulture))],
            SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        await ApiKeyRejectedException.AnswerOf(await HandleAuthenticateOnceSafeAsync(), ApiErrors.MissingApiKey(QueryAllowed, KeyNotRead()))
            .ExecuteAsync(Context);
    }

    /// <summary>"Bearer", "Basic" or "Token" when the key was written after an Authorization scheme, else null.</summary>
    private static string? AuthorizationScheme(string presented) =>
        presented.AsSpan().IndexOfAny(' ', '\t') is > 0 and var space && presented[..space] is var scheme
        && AuthorizationSchemes.Contains(scheme, StringComparer.OrdinalIgnoreCase)
            ? scheme
            : null;

    private static readonly string[] AuthorizationSchemes = ["Bearer", "Basic", "Token"];

    /// <summary>Where a request without a key carries one where CRMs put keys for other APIs, which this API does not read.</summary>
    private string? KeyNotRead() =>
        Request.Headers.Authorization.Count > 0 ? "the Authorization header"
        : OtherKeyHeaders.FirstOrDefault(Request.Headers.ContainsKey) is { } header ? $"a header named {header}"
        : !QueryAllowed && Request.Query.ContainsKey(QueryName) ? "the apikey query parameter (quick-send's only)"
        : Request.Query.Keys.FirstOrDefault(IsOtherKeyParameter) is { } parameter ? $"the {parameter} query parameter"
        : null;

    private static readonly string[] OtherKeyHeaders = ["apikey", "api-key", "api_key", "x-api-token"];

    /// <summary>
    /// apikey written in another style (api_key, the docs' Postman variable; api-key; X-API-Key as the header is named):
    /// a query parameter the key is not read from, which the answer names rather than only saying where to put a key.
    /// </summary>
    private static bool IsOtherKeyParameter(string name) =>
        !name.Equals(QueryName, StringComparison.OrdinalIgnoreCase) && LooseNames.Of(name) is "apikey" or "xapikey";

    /// <summary>
    /// The key, null when none is given, or empty when one is given twice. A blank header is no key, like a blank
    /// <c>apikey=</c> (a Postman variable left empty): MISSING_API_KEY says what is wrong, "Invalid API key" did not.
    /// </summary>
    private string? PresentedKey()
    {
        var header = HeaderKeys();
        if (header.Length > 0)
        {
            return header.Length == 1 ? header[0]!.Trim() : "";
        }

        // Blank values are none here too: "apikey=&apikey=twb_…" (an empty variable beside the key) gives one key; and
        // "apikey=k1,k2" is two keys, as in the header.
        if (QueryAllowed && Request.Query.TryGetValue(QueryName, out var query)
            && query.SelectMany(value => value!.Split(',')).Where(value => !string.IsNullOrWhiteSpace(value)).ToArray() is { Length: > 0 } keys)
        {
            return keys.Length == 1 ? keys[0]!.Trim() : "";
        }

        return null;
    }

    /// <summary>The header's non-blank values. Keys have no commas, so "k1, k2" is two, as a proxy that appends writes them.</summary>
    private string[] HeaderKeys() =>
        [.. Request.Headers.GetCommaSeparatedValues(HeaderName).Where(value => !string.IsNullOrWhiteSpace(value))];

    /// <summary>
    /// Only guesses count. A revoked or expired key is one we issued (found by its hash), which no guesser can make up; a
    /// key of the other mode (a sandbox key sent to a live server) is refused by its prefix whatever follows it, and one
    /// written after a scheme ("Bearer ") by that word, so neither guesses anything. A CRM still retrying either must not
    /// lock every other key out of its address.
    /// </summary>
    private bool IsGuess(string presented, Exception failure) =>
        failure is not ApiKeyRejectedException { Error.Body.ErrorCode: ErrorCodes.ApiKeyRevoked or ErrorCodes.ApiKeyExpired }
        && !(ApiKeyFormat.IsWellFormed(presented, out var prefix) && prefix != mode.ApiKeyPrefix)
        && AuthorizationScheme(presented) is null;

    private static AuthenticateResult Reject(ApiError error) => AuthenticateResult.Fail(new ApiKeyRejectedException(error));
}

/// <summary>Carries the precise 401 (or 429) answer from authentication to the challenge.</summary>
internal sealed class ApiKeyRejectedException(ApiError error) : Exception(error.Body.ErrorCode)
{
    public ApiError Error { get; } = error;

    /// <summary>
    /// The address's wrong keys refuse the request (429 until <paramref name="retryAfter"/> seconds pass), whatever its
    /// key; the request line says so, since its key is not what is refused.
    /// </summary>
    public static AuthenticateResult WrongKeysRefusal(IDiagnosticContext diagnostics, int retryAfter)
    {
        diagnostics.Set("RateLimit", "wrong_keys");
        return AuthenticateResult.Fail(new ApiKeyRejectedException(ApiErrors.WrongKeysRateLimited(retryAfter)));
    }

    /// <summary>The answer authentication chose, or <paramref name="otherwise"/> when it chose none (no key given).</summary>
    public static ApiError AnswerOf(AuthenticateResult result, ApiError otherwise) =>
        result.Failure is ApiKeyRejectedException rejected ? rejected.Error : otherwise;
}

/// <summary>Marks the one endpoint (quick-send) whose key may come in the <c>apikey</c> query parameter.</summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class)]
public sealed class ApiKeyInQueryAttribute : Attribute;
