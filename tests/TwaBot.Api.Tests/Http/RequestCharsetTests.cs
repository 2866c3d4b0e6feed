using System.Net;
using System.Text;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Http;

/// <summary>
/// The charset and encoding of a JSON body, on the routes the framework reads (admin, sandbox): UTF-8 is UTF-8
/// however it is spelt, and a charset no encoding has or a compressed body is a 415 in the envelope, never a 500.
/// </summary>
public class RequestCharsetTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Theory]
    [InlineData("application/json; charset=utf8")]
    [InlineData("application/json; charset=UTF8")]
    [InlineData("application/json; charset=\"utf-8\"")] // a quoted value is the same value in HTTP
    [InlineData("application/json; charset=\"UTF-8\"")]
    [InlineData("application/json; charset=us-ascii")] // ASCII is a subset of UTF-8: read as UTF-8, not with ? for each other byte
    [InlineData("application/json; charset=ASCII")]
    public async Task AUtf8BodyIsReadWhateverSpellingItsCharsetHas(string contentType)
    {
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsync("/admin/v1/businesses", Json("""{"name":"Café Ñandú","plan":"Growth"}""", contentType));

        var json = await response.ReadJsonAsync(HttpStatusCode.Created);
        Assert.Equal("Café Ñandú", json.GetProperty("business").GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("application/json; charset=foo", "charset=foo")]
    [InlineData("application/json; charset=utf-7", "charset=utf-7")]
    [InlineData("application/json; charset=", "charset=")]
    [InlineData("application/json; charset=\"iso-8859-1\"", "charset=iso-8859-1")]
    public async Task ACharsetThatCannotBeReadIsA415AndStoresNothing(string contentType, string says)
    {
        using var admin = factory.CreateAdminClient();
        var name = $"Charset {Guid.NewGuid():N}";

        var response = await admin.PostAsync("/admin/v1/businesses", Json($$"""{"name":"{{name}}","plan":"Growth"}""", contentType));

        var json = await response.AssertErrorAsync(HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE");
        Assert.Contains(says, json.GetProperty("error").GetString(), StringComparison.Ordinal);
        await factory.WithDbAsync(async db => Assert.False(
            await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.AnyAsync(db.Businesses, b => b.Name == name)));
    }

    [Theory]
    [InlineData("iso-8859-1")]
    [InlineData("latin1")]
    [InlineData("utf-32")]
    [InlineData("utf-16")]
    public async Task ABodyInAnotherCharsetIsA415EvenWhenItCouldBeConvertedAndStoresNothing(string charset)
    {
        // README, Admin API: a body in another charset than UTF-8 is 415, as on the sends; not converted and stored.
        using var admin = factory.CreateAdminClient();
        var name = $"Café {Guid.NewGuid():N}";
        var content = new ByteArrayContent(Encoding.GetEncoding(charset).GetBytes($$"""{"name":"{{name}}","plan":"Growth"}"""));
        Assert.True(content.Headers.TryAddWithoutValidation("Content-Type", $"application/json; charset={charset}"));

        var response = await admin.PostAsync("/admin/v1/businesses", content);

        var json = await response.AssertErrorAsync(HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE");
        Assert.Contains($"charset={charset}", json.GetProperty("error").GetString(), StringComparison.Ordinal);
        await factory.WithDbAsync(async db => Assert.False(
            await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.AnyAsync(db.Businesses, b => b.Name == name)));
    }

    [Fact]
    public async Task AnAdminBodyInAnotherCharsetWithoutTheKeyIsStill401()
    {
        using var anonymous = factory.CreateClient();

        var response = await anonymous.PostAsync("/admin/v1/businesses",
            Json("""{"name":"Acme","plan":"Growth"}""", "application/json; charset=iso-8859-1"));

        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "ADMIN_UNAUTHORIZED");
    }

    [Fact]
    public async Task TheSandboxInboundRouteAnswersAnUnknownCharsetWithA415()
    {
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsync("/sandbox/v1/inbound",
            Json("""{"from":"919876543210","text":"Hi"}""", "application/json; charset=foo"));
        var converted = await admin.PostAsync("/sandbox/v1/inbound",
            Json("""{"from":"919876543210","text":"Hi"}""", "application/json; charset=iso-8859-1"));

        await response.AssertErrorAsync(HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE");
        await converted.AssertErrorAsync(HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE");
    }

    [Fact]
    public async Task ACompressedBodyIsA415NamingItsEncodingAndStoresNothing()
    {
        using var admin = factory.CreateAdminClient();
        var name = $"Gzip {Guid.NewGuid():N}";
        using var compressed = new MemoryStream();
        await using (var gzip = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            await gzip.WriteAsync(Encoding.UTF8.GetBytes($$"""{"name":"{{name}}","plan":"Growth"}"""));
        }

        using var body = new ByteArrayContent(compressed.ToArray());
        body.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        body.Headers.ContentEncoding.Add("gzip");
        var response = await admin.PostAsync("/admin/v1/businesses", body);

        // As the send routes say it, not "not valid JSON".
        var json = await response.AssertErrorAsync(HttpStatusCode.UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE");
        Assert.Contains("Content-Encoding: gzip", json.GetProperty("error").GetString(), StringComparison.Ordinal);
        await factory.WithDbAsync(async db => Assert.False(
            await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.AnyAsync(db.Businesses, b => b.Name == name)));
    }

    /// <summary>UTF-8 bytes under exactly the Content-Type given (HttpClient would reformat or refuse some).</summary>
    private static ByteArrayContent Json(string body, string contentType)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        Assert.True(content.Headers.TryAddWithoutValidation("Content-Type", contentType));
        return content;
    }
}
