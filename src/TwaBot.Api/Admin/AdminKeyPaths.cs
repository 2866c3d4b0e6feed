namespace TwaBot.Api.Admin;

/// <summary>
/// The paths behind the admin key, as routing matches them (any case, a trailing slash): the admin API and the sandbox's
/// inbound. They are also the routes whose JSON bodies the framework reads, not the handlers.
/// </summary>
internal static class AdminKeyPaths
{
    public static bool Contain(PathString path) =>
        path.StartsWithSegments("/admin", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/sandbox/v1/inbound", StringComparison.OrdinalIgnoreCase);
}
