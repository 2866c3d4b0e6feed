using System.Diagnostics;

namespace TwaBot.Api.Metrics;

/// <summary>
/// Our spans, beside the framework's (requests in, calls out). Without a tracer provider the source has no
/// listener and <see cref="ActivitySource.StartActivity(string, ActivityKind)"/> returns null at the cost of one check.
/// </summary>
public static class TwaBotTracing
{
    public const string SourceName = "TwaBot";

    internal static readonly ActivitySource Source = new(SourceName);
}
