using System.Text.Json;
using System.Text.RegularExpressions;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Tests.OpenApi;

namespace TwaBot.Api.Tests.Postman;

/// <summary>The server, its OpenAPI document and the Postman collection cannot drift apart.</summary>
public partial class RouteDriftTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public void EveryMappedRouteIsInThePostmanCollectionWithItsMethod()
    {
        _ = factory.Server;
        var collection = CollectionRoutes().ToHashSet();

        var missing = OpenApiDocumentTests.MappedRoutes(factory.Services)
            .Select(route => (Path: Shape(route.Path), route.Method))
            .Where(route => !collection.Contains(route))
            .Select(route => $"{route.Method} {route.Path}")
            .ToList();

        Assert.True(missing.Count == 0, "Not in postman/TwaBot.postman_collection.json: " + string.Join(", ", missing));
    }

    [Fact]
    public void EveryPublicApiRequestOfTheCollectionUsesTheApiKeyVariable()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Repository.PathOf("postman/TwaBot.postman_collection.json")));
        var root = document.RootElement;

        var auth = root.GetProperty("auth").GetProperty("apikey").EnumerateArray()
            .ToDictionary(e => e.GetProperty("key").GetString()!, e => e.GetProperty("value").GetString());
        var variables = root.GetProperty("variable").EnumerateArray().Select(v => v.GetProperty("key").GetString()).ToList();

        Assert.Equal("X-API-Key", auth["key"]);
        Assert.Equal("{{api_key}}", auth["value"]);
        Assert.Contains("base_url", variables);
        Assert.Contains("api_key", variables);
    }

    /// <summary>(path shape, method) of every request in the collection; variables and ids become <c>{}</c>.</summary>
    private static List<(string Path, string Method)> CollectionRoutes()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Repository.PathOf("postman/TwaBot.postman_collection.json")));
        return Requests(document.RootElement).ToList();

        static IEnumerable<(string, string)> Requests(JsonElement node)
        {
            foreach (var item in node.GetProperty("item").EnumerateArray())
            {
                if (item.TryGetProperty("item", out _))
                {
                    foreach (var request in Requests(item))
                    {
                        yield return request;
                    }
                }
                else
                {
                    var request = item.GetProperty("request");
                    var url = request.GetProperty("url");
                    var raw = url.ValueKind == JsonValueKind.String ? url.GetString()! : url.GetProperty("raw").GetString()!;
                    var path = raw.Replace("{{base_url}}", "/api/v1", StringComparison.Ordinal)
                        .Replace("{{server_url}}", "", StringComparison.Ordinal)
                        .Split('?')[0];
                    yield return (Shape(path), request.GetProperty("method").GetString()!);
                }
            }
        }
    }

    /// <summary>Route parameters, Postman variables and literal ids all become <c>{}</c>.</summary>
    private static string Shape(string path) =>
        string.Join('/', path.Split('/').Select(segment => Parameter().IsMatch(segment) ? "{}" : segment));

    [GeneratedRegex(@"^(\{.*\}|:\w+|\+?[0-9]+)$")]
    private static partial Regex Parameter();
}
