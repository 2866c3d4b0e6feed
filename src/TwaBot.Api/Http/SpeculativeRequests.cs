namespace TwaBot.Api.Http;

/// <summary>
/// A request a browser makes on its own, before (or instead of) the user opening the link: a speculation-rules or
/// omnibox prefetch or prerender (<c>Sec-Purpose: prefetch</c>, <c>prefetch;prerender</c>), and the older marks of
/// link prefetching and page previews (<c>Purpose: prefetch</c>, <c>X-Purpose: preview</c>, <c>X-Moz: prefetch</c>).
/// A browser uses such an answer only when it is a success and asks again when the user really opens the page, so
/// a GET that changes something refuses them.
/// </summary>
public static class SpeculativeRequests
{
    public static bool IsSpeculative(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Names(request, "Sec-Purpose", "prefetch") || Names(request, "Purpose", "prefetch", "preview")
            || Names(request, "X-Purpose", "prefetch", "preview") || Names(request, "X-Moz", "prefetch");
    }

    /// <summary>The header lists one of <paramref name="purposes"/>, as a structured-field token with or without parameters.</summary>
    private static bool Names(HttpRequest request, string header, params string[] purposes)
    {
        foreach (var value in request.Headers[header])
        {
            foreach (var item in (value ?? "").Split(',', StringSplitOptions.TrimEntries))
            {
                var token = item.Split(';', 2)[0].Trim();
                if (purposes.Any(purpose => purpose.Equals(token, StringComparison.OrdinalIgnoreCase)))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
