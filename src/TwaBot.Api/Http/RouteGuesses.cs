using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing.Patterns;

namespace TwaBot.Api.Http;

/// <summary>
/// The routes a path no route takes was most likely meant for, for a 404's "did you mean": a CRM developer's slips are
/// other separators or case (/api/v1/send_template), another version or prefix (/api/v2/send-template, /v1/health,
/// /send-template), a letter or two mistyped (/api/v1/send-templte), and a route's last value left out of the path
/// (GET /api/v1/message-status, its id put in the query as quick-send takes its values).
/// </summary>
internal static partial class RouteGuesses
{
    /// <summary>The most letters, over the whole path, a guess may differ by.</summary>
    private const int MaxTypos = LooseNames.MaxTypos;

    /// <summary>Guesses named at most; more, and the path says too little to guess from.</summary>
    private const int MaxGuesses = 3;

    /// <summary>
    /// The routes <paramref name="path"/> is closest to, each written with the path's own values for its parameters
    /// (/api/v1/message-status/twb:…), best first; empty when none is close or the path is a route's own. A route's last
    /// parameter the path leaves out is written with the value <paramref name="valueOf"/> gives for its name (the
    /// query's <c>message_id=</c>), else as <c>{messageId}</c>.
    /// </summary>
    public static IReadOnlyList<string> For(string path, IEnumerable<RoutePattern> routes, Func<string, string?>? valueOf = null)
    {
        var written = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var guesses = routes
            .Select(route => Guess(written, route, route.PathSegments.Count) ?? GuessWithoutLastValue(written, route, valueOf))
            .OfType<(string Route, int Distance)>()
            .DistinctBy(guess => guess.Route)
            .ToList();
        if (guesses.Count == 0 || guesses.Any(guess => string.Equals(guess.Route, path.TrimEnd('/'), StringComparison.OrdinalIgnoreCase)))
        {
            return []; // (a route's own path is not guessed another's)
        }

        var best = guesses.Min(guess => guess.Distance);
        var closest = guesses.Where(guess => guess.Distance == best).Select(guess => guess.Route).ToList();
        return closest.Count <= MaxGuesses ? closest : [];
    }

    /// <summary>
    /// The route when the path stops before its last segment, a parameter: one farther than the letters mistyped, with
    /// that parameter's value from <paramref name="valueOf"/> (one the route takes) or its name in braces. Null when the route ends otherwise.
    /// </summary>
    private static (string Route, int Distance)? GuessWithoutLastValue(string[] written, RoutePattern route, Func<string, string?>? valueOf)
    {
        if (route.PathSegments is not [.., { IsSimple: true, Parts: [RoutePatternParameterPart parameter] }]
            || Guess(written, route, route.PathSegments.Count - 1) is not { } shorter)
        {
            return null;
        }

        var value = valueOf?.Invoke(parameter.Name)?.Trim();
        return ($"{shorter.Route}/{(string.IsNullOrEmpty(value) || !Fits(value, parameter) ? $"{{{parameter.Name}}}" : value)}", shorter.Distance + 1);
    }

    /// <summary>
    /// The route as the path would name it, and how far the path is from it: the letters mistyped, plus one when the
    /// prefix before the route's version (/api/v1) is another. Null when the path's end is not the route's (its first
    /// <paramref name="length"/> segments).
    /// </summary>
    private static (string Route, int Distance)? Guess(string[] written, RoutePattern route, int length)
    {
        var segments = route.PathSegments.Take(length).ToList();
        var versionAt = segments.FindLastIndex(segment => segment.IsSimple && segment.Parts[0] is RoutePatternLiteralPart literal
            && Version().IsMatch(literal.Content));
        var prefix = segments.Take(versionAt + 1).ToList();
        var tail = segments.Skip(versionAt + 1).ToList();
        if (tail.Count == 0 || tail.Count > written.Length || prefix.Any(segment => !IsLiteral(segment)))
        {
            return null;
        }

        var typos = 0;
        var named = new List<string>(segments.Count);
        var writtenTail = written.AsSpan(written.Length - tail.Count);
        for (var i = 0; i < tail.Count; i++)
        {
            if (!tail[i].IsSimple)
            {
                return null;
            }

            switch (tail[i].Parts[0])
            {
                case RoutePatternLiteralPart literal:
                    var mistyped = LooseNames.Typos(LooseNames.Of(writtenTail[i]), LooseNames.Of(literal.Content));
                    if (mistyped is null)
                    {
                        return null;
                    }

                    typos += mistyped.Value;
                    named.Add(literal.Content);
                    break;
                case RoutePatternParameterPart parameter when Fits(writtenTail[i], parameter):
                    named.Add(writtenTail[i]);
                    break;
                default:
                    return null;
            }
        }

        if (typos > MaxTypos)
        {
            return null;
        }

        var writtenPrefix = written.Take(written.Length - tail.Count).Select(LooseNames.Of);
        var routePrefix = prefix.Select(segment => LooseNames.Of(((RoutePatternLiteralPart)segment.Parts[0]).Content));
        var otherPrefix = writtenPrefix.SequenceEqual(routePrefix) ? 0 : 1;
        var literalPrefix = prefix.Select(segment => ((RoutePatternLiteralPart)segment.Parts[0]).Content);
        return ("/" + string.Join('/', literalPrefix.Concat(named)), typos + otherPrefix);
    }

    private static bool IsLiteral(RoutePatternPathSegment segment) => segment.IsSimple && segment.Parts[0] is RoutePatternLiteralPart;

    /// <summary>
    /// A business id's route takes digits only; a guess the path's value cannot reach is no guess. Read as the route's
    /// <c>long</c> constraint reads it (invariant culture), not as the machine's culture would (no -7 under ar-SA).
    /// </summary>
    private static bool Fits(string value, RoutePatternParameterPart parameter) =>
        !parameter.ParameterPolicies.Any(policy => policy.Content is "long" or "int")
        || long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _);

    [GeneratedRegex(@"^v\d+(\.\d+)?$")]
    private static partial Regex Version();
}
