using Microsoft.AspNetCore.Http;
using TwaBot.Api.Http;

namespace TwaBot.Api.Tests.Http;

/// <summary>Which request headers mark a browser's own prefetch or preview (the HTTP side is in <see cref="BrowserCallsTests"/>).</summary>
public class SpeculativeRequestsTests
{
    [Theory]
    [InlineData("Sec-Purpose", "prefetch", true)]
    [InlineData("Sec-Purpose", "prefetch;anonymous-client-ip", true)]
    [InlineData("Sec-Purpose", "Prefetch", true)]                  // header values are matched without regard to case
    [InlineData("Purpose", "preview", true)]
    [InlineData("X-Purpose", "prefetch", true)]
    [InlineData("X-Purpose", "instant, preview", true)]            // two headers a proxy joined into one list
    [InlineData("X-Moz", "microsummary", false)]                   // Firefox's own fetch of a page summary, not a prefetch
    [InlineData("Sec-Purpose", "prerender", false)]                // a prerender is always announced as prefetch;prerender
    [InlineData("Purpose", "", false)]
    public void APurposeHeaderIsSpeculativeOnlyWhenItNamesAPrefetchOrPreview(string header, string value, bool speculative)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers[header] = value;

        Assert.Equal(speculative, SpeculativeRequests.IsSpeculative(context.Request));
    }
}
