using System.Net;
using System.Text;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Admin;

/// <summary>
/// On the routes behind the admin key, the key is checked before the body's rules (its type, charset, encoding and size),
/// as the public API checks its key before its own (PRODUCT.md §6: a missing or wrong admin key is 401): someone without
/// the key learns nothing about what a route would read. With the key, the body rules answer as before.
/// </summary>
public class AdminKeyBeforeBodyRulesTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    public static readonly TheoryData<string, string> Routes = new()
    {
        { "POST", "/admin/v1/businesses" },
        { "PATCH", "/admin/v1/businesses/1" },
        { "PUT", "/admin/v1/businesses/1/whatsapp" },
        { "POST", "/admin/v1/businesses/1/api-keys" },
        { "PATCH", "/admin/v1/api-keys/1" },
        { "POST", "/admin/v1/businesses/1/suppressions" },
        { "POST", "/admin/v1/businesses/1/suppressions/import" },
        { "POST", "/admin/v1/businesses/1/templates" },
        { "POST", "/sandbox/v1/inbound" },
    };

    /// <summary>Each body rule's refusal, as the status the right key gets.</summary>
    public static readonly TheoryData<string, HttpStatusCode> Bodies = new()
    {
        { "form", HttpStatusCode.UnsupportedMediaType },
        { "multipart", HttpStatusCode.UnsupportedMediaType },
        { "text", HttpStatusCode.UnsupportedMediaType },
        { "latin1", HttpStatusCode.UnsupportedMediaType },
        { "unknown charset", HttpStatusCode.UnsupportedMediaType },
        { "gzip", HttpStatusCode.UnsupportedMediaType },
        { "too large", HttpStatusCode.RequestEntityTooLarge },
    };

    public static TheoryData<string, string, string, string?> EveryRouteBodyAndKey()
    {
        var cases = new TheoryData<string, string, string, string?>();
        foreach (var route in Routes)
        {
            foreach (var body in Bodies)
            {
                cases.Add((string)route[0], (string)route[1], (string)body[0], null);
                cases.Add((string)route[0], (string)route[1], (string)body[0], TwaBotApiFactory.AdminKey + "x");
            }
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(EveryRouteBodyAndKey))]
    public async Task WithoutTheAdminKeyEveryBodyIsA401(string method, string path, string body, string? key)
    {
        using var client = factory.CreateClient();
        using var request = Request(method, path, body, key);

        var response = await client.SendAsync(request);

        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "ADMIN_UNAUTHORIZED");
    }

    [Theory] // the public API in the same order: its key, then its body
    [InlineData("too large", null, "MISSING_API_KEY")]
    [InlineData("too large", "twb_test_wrong", "INVALID_API_KEY")]
    [InlineData("form", null, "MISSING_API_KEY")]
    [InlineData("gzip", "twb_test_wrong", "INVALID_API_KEY")]
    public async Task WithoutAnApiKeyASendsBodyIsA401Too(string body, string? key, string code)
    {
        using var client = factory.CreateClient();
        using var request = Request("POST", "/api/v1/send-template", body, null);
        if (key is not null)
        {
            request.Headers.Add("X-API-Key", key);
        }

        var response = await client.SendAsync(request);

        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, code);
    }

    public static TheoryData<string, string, string, HttpStatusCode> EveryRouteAndBody()
    {
        var cases = new TheoryData<string, string, string, HttpStatusCode>();
        foreach (var route in Routes)
        {
            foreach (var body in Bodies)
            {
                cases.Add((string)route[0], (string)route[1], (string)body[0], (HttpStatusCode)body[1]);
            }
        }

        return cases;
    }

    [Theory]
    [MemberData(nameof(EveryRouteAndBody))]
    public async Task WithTheAdminKeyTheBodyRulesAnswerAsBefore(string method, string path, string body, HttpStatusCode status)
    {
        using var client = factory.CreateClient();
        using var request = Request(method, path, body, TwaBotApiFactory.AdminKey);

        var response = await client.SendAsync(request);

        await response.AssertErrorAsync(status, status == HttpStatusCode.RequestEntityTooLarge ? "PAYLOAD_TOO_LARGE" : "UNSUPPORTED_MEDIA_TYPE");
    }

    private static HttpRequestMessage Request(string method, string path, string body, string? key)
    {
        const string json = """{"name":"Acme","plan":"Growth"}""";
        HttpContent content = body switch
        {
            "form" => new FormUrlEncodedContent([new("name", "Acme"), new("plan", "Growth")]),
            "multipart" => new MultipartFormDataContent { { new StringContent("Acme"), "name" } },
            "text" => new StringContent(json, Encoding.UTF8, "text/plain"),
            "latin1" => Typed(Encoding.Latin1.GetBytes(json), "application/json; charset=iso-8859-1"),
            "unknown charset" => Typed(Encoding.UTF8.GetBytes(json), "application/json; charset=foo"),
            "gzip" => Gzipped(json),
            "too large" => Typed(new byte[(int)Api.Errors.RequestBodyLimits.SuppressionImportBytes + 1], "application/json"),
            _ => throw new ArgumentOutOfRangeException(nameof(body), body, null),
        };
        var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = content };
        if (key is not null)
        {
            request.Headers.Add("X-Admin-Key", key);
        }

        return request;
    }

    private static ByteArrayContent Typed(byte[] bytes, string contentType)
    {
        var content = new ByteArrayContent(bytes);
        Assert.True(content.Headers.TryAddWithoutValidation("Content-Type", contentType));
        return content;
    }

    private static ByteArrayContent Gzipped(string json)
    {
        using var packed = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(packed, System.IO.Compression.CompressionLevel.Fastest))
        {
            gzip.Write(Encoding.UTF8.GetBytes(json));
        }

        var content = Typed(packed.ToArray(), "application/json");
        content.Headers.ContentEncoding.Add("gzip");
        return content;
    }
}
