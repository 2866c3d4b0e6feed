using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Admin;

/// <summary>Every 201's Location can be fetched, and answers what the 201 did (an API key without its secret).</summary>
public class AdminLocationsTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task EachCreatedResourceCanBeFetchedAtItsLocation()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        var creates = new[]
        {
            await admin.PostAsJsonAsync("/admin/v1/businesses", new { name = "Located", plan = "Growth" }),
            await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/api-keys", new { name = "Located key", permissions = new[] { "*" } }),
            await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions", new { phone = "+91 98111 00001", state = "blocked", reason = "fraud" }),
            await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates",
                new { name = "located_update", language = "en", category = "UTILITY", body = "Hi {{1}}, all is well." }),
        };

        foreach (var created in creates)
        {
            var body = await created.ReadJsonAsync(HttpStatusCode.Created);
            var fetched = await (await admin.GetAsync(created.Headers.Location)).ReadJsonAsync(HttpStatusCode.OK);

            var resource = body.EnumerateObject().Single(p => p.Value.ValueKind == JsonValueKind.Object);
            var expected = resource.Value.EnumerateObject().Where(p => p.Name != "key").ToDictionary(p => p.Name, p => p.Value.GetRawText());
            var actual = fetched.GetProperty(resource.Name).EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetRawText());
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public async Task WhatIsNotThereIsA404NamingIt()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var other = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        var template = await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates",
            new { name = "elsewhere_update", language = "en", category = "UTILITY", body = "Hi {{1}}." })).ReadJsonAsync(HttpStatusCode.Created);
        var templateId = template.GetProperty("template").GetProperty("id").GetInt64();

        await (await admin.GetAsync("/admin/v1/api-keys/999999")).AssertErrorAsync(HttpStatusCode.NotFound, "API_KEY_NOT_FOUND");
        await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions/919811100099"))
            .AssertErrorAsync(HttpStatusCode.NotFound, "SUPPRESSION_NOT_FOUND");
        // Another business's template is not this one's.
        await (await admin.GetAsync($"/admin/v1/businesses/{other}/templates/{templateId}")).AssertErrorAsync(HttpStatusCode.NotFound, "TEMPLATE_NOT_FOUND");
        await (await admin.GetAsync($"/admin/v1/businesses/999999/templates/{templateId}")).AssertErrorAsync(HttpStatusCode.NotFound, "BUSINESS_NOT_FOUND");
        await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions/12"))
            .AssertErrorAsync(HttpStatusCode.BadRequest, "INVALID_PHONE");
    }
}
