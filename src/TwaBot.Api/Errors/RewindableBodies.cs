namespace TwaBot.Api.Errors;

/// <summary>
/// The admin API's and the sandbox's own JSON bodies are read by the framework, whose reader counts a syntax error's
/// position in bytes, and keeps no copy: kept here to be read again, a malformed one is answered with the position in
/// characters (<see cref="ApiExceptionHandler"/>). Only these routes: they are rare and small, while the sends read
/// their own bodies, and the webhooks, the emulator's Graph API and the benchmark's references are the hot paths.
/// </summary>
internal static class RewindableBodies
{
    public static IApplicationBuilder UseRewindableBodies(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (Admin.AdminKeyPaths.Contain(context.Request.Path))
        {
            // In memory up to the route's body limit: never a temporary file, which a read-only container cannot write.
            context.Request.EnableBuffering(bufferThreshold: (int)RequestBodyLimits.LimitFor(context.Request));
        }

        return next(context);
    });
}
