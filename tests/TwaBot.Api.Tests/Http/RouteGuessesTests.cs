using System.Globalization;
using Microsoft.AspNetCore.Routing.Patterns;
using TwaBot.Api.Http;

namespace TwaBot.Api.Tests.Http;

public class RouteGuessesTests
{
    private static readonly RoutePattern[] Routes = [.. new[]
    {
        "/api/v1/send-template", "/api/v1/send-text", "/api/v1/send", "/api/v1/health", "/api/v1/ok",
        "/api/v1/message-status/{messageId}", "/admin/v1/businesses/{id:long}/whatsapp", "/admin/v1/businesses",
        "/webhooks/meta", "/healthz", "/sandbox/graph/{version}/{phoneNumberId}/messages",
        "/tenants/{tenant}/v1/items", "/files/v1/media/{name}.{ext}", "/legacy/v1/sync/v2/jobs",
    }.Select(RoutePatternFactory.Parse)];

    [Theory]
    [InlineData("/api/v1/send_template", "/api/v1/send-template")] // separators
    [InlineData("/API/V1/SENDTEMPLATE", "/api/v1/send-template")] // case, none
    [InlineData("/api/v2/send-template", "/api/v1/send-template")] // another version
    [InlineData("/v1/send-template", "/api/v1/send-template")] // no /api
    [InlineData("/send-template", "/api/v1/send-template")] // no prefix at all
    [InlineData("/api/v1/send-templte", "/api/v1/send-template")] // a letter left out
    [InlineData("/api/v1/sned-tempalte", null)] // two pairs swapped: four letters, too far to guess
    [InlineData("/api/v1/send-txt", "/api/v1/send-text")]
    [InlineData("/api/health", "/api/v1/health")] // not /healthz: the prefix differs for both, /healthz's letters too
    [InlineData("/api/v1/message_status/twb:a1", "/api/v1/message-status/twb:a1")] // the parameter keeps the path's value
    [InlineData("/api/v1/message-status", "/api/v1/message-status/{messageId}")] // a route's last value left out
    [InlineData("/message_status", "/api/v1/message-status/{messageId}")] // and another prefix and separator
    [InlineData("/api/v1/send-template/x", null)] // a value too many is no guess
    [InlineData("/admin/v1/business/7/whatsapp", "/admin/v1/businesses/7/whatsapp")]
    [InlineData("/webhook/meta", "/webhooks/meta")]
    [InlineData("/healthz/", null)] // a route itself: no other is guessed (here /api/v1/health, a letter and the prefix away)
    [InlineData("/HEALTHZ", null)] // in any case, as routing takes it
    [InlineData("/admin/v1/businesses/abc/whatsapp", null)] // an id that is not a number reaches no route
    [InlineData("/admin/v1/business/abc/whatsapp", null)] // nor with a letter mistyped elsewhere
    [InlineData("/admin/v1/businessesxx/7/whatsap", null)] // three letters over the path, though each word is within its own two or one
    [InlineData("/webhookz/meta", "/webhooks/meta")] // a letter replaced
    [InlineData("/v1/items", null)] // a route with a parameter before its version is never guessed
    [InlineData("/files/v1/medias/a.png", null)] // nor one whose segment is more than a parameter ({name}.{ext})
    [InlineData("/jobs", "/legacy/v1/sync/v2/jobs")] // the prefix runs to the route's last version
    [InlineData("/api/v1/on", null)] // a short word is written right or not guessed
    [InlineData("/api/v1/sent", null)]
    [InlineData("/api/v1/send-fax", null)]
    [InlineData("/no/such/page", null)]
    [InlineData("/api/v1/123/messages", null)] // the emulator's routes have a parameter before their version
    [InlineData("/", null)]
    public void APathIsGuessedTheRouteItIsClosestTo(string path, string? meant)
    {
        var guesses = RouteGuesses.For(path, Routes);

        Assert.Equal(meant is null ? [] : [meant], guesses);
    }

    [Theory] // the {id:long} constraint reads the value under the invariant culture, so the guess must too
    [InlineData("ar-SA", "/admin/v1/business/-7/whatsapp", "/admin/v1/businesses/-7/whatsapp")] // the route takes -7 and +7
    [InlineData("fa-IR", "/admin/v1/business/+7/whatsapp", "/admin/v1/businesses/+7/whatsapp")]
    [InlineData("fa-IR", "/admin/v1/business/\u200E\u22127/whatsapp", null)] // fa-IR's own minus sign, which the route refuses
    public void AnIdIsReadAsTheRouteReadsItWhateverTheCulture(string culture, string path, string? meant)
    {
        var before = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = new CultureInfo(culture);
        try
        {
            Assert.Equal(meant is null ? [] : [meant], RouteGuesses.For(path, Routes));
        }
        finally
        {
            CultureInfo.CurrentCulture = before;
        }
    }

    [Theory] // the value left out, where the request gives it elsewhere (the query): else the parameter's name
    [InlineData("wamid.HBgM", "/api/v1/message-status/wamid.HBgM")]
    [InlineData(" twb:a1 ", "/api/v1/message-status/twb:a1")]
    [InlineData("", "/api/v1/message-status/{messageId}")]
    [InlineData(null, "/api/v1/message-status/{messageId}")]
    public void ARouteLastValueLeftOutIsWrittenWithTheValueGiven(string? value, string meant) =>
        Assert.Equal([meant], RouteGuesses.For("/api/v1/message-status", Routes, name => name == "messageId" ? value : "other"));

    [Theory] // a value the route cannot take is not written into it; a route with no segments is never guessed so
    [InlineData("/admin/v1/business", "7", "/admin/v1/businesses/7")]
    [InlineData("/admin/v1/business", "abc", "/admin/v1/businesses/{id}")]
    public void AValueLeftOutIsWrittenOnlyWhereTheRouteTakesIt(string path, string value, string meant) =>
        Assert.Equal([meant], RouteGuesses.For(path, [RoutePatternFactory.Parse("/"), RoutePatternFactory.Parse("/admin/v1/businesses/{id:long}")],
            _ => value));

    [Fact]
    public void RoutesEquallyCloseAreAllNamedButNotMany()
    {
        // /health is /api/v1/health under another prefix and /healthz with a letter left out: both as likely.
        Assert.Equal(["/api/v1/health", "/healthz"], RouteGuesses.For("/health", Routes));
        var three = Enumerable.Range(1, 3).Select(i => RoutePatternFactory.Parse($"/p{i}/v1/items")).ToList();
        Assert.Equal(["/p1/v1/items", "/p2/v1/items", "/p3/v1/items"], RouteGuesses.For("/items", three));
        var many = Enumerable.Range(1, 4).Select(i => RoutePatternFactory.Parse($"/p{i}/v1/items")).ToList();
        Assert.Empty(RouteGuesses.For("/items", many));
    }

    [Fact]
    public void AVersionWithAMinorNumberEndsTheRoutesPrefix() =>
        Assert.Equal(["/graph/v2.1/items"], RouteGuesses.For("/items", [RoutePatternFactory.Parse("/graph/v2.1/items")]));
}
