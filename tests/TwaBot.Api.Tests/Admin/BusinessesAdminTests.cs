using System.Net;
using System.Net.Http.Json;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Admin;

public class BusinessesAdminTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task CreatingABusinessReturns201WithItsFields()
    {
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsJsonAsync("/admin/v1/businesses", new { name = "Rahul Traders", plan = "growth", time_zone = "Europe/London" });

        var json = await response.ReadJsonAsync(HttpStatusCode.Created);
        Assert.True(json.GetProperty("success").GetBoolean());
        var business = json.GetProperty("business");
        Assert.True(business.GetProperty("id").GetInt64() > 0);
        Assert.Equal("Rahul Traders", business.GetProperty("name").GetString());
        Assert.Equal("Growth", business.GetProperty("plan").GetString());
        Assert.Equal("Europe/London", business.GetProperty("time_zone").GetString());
        Assert.False(business.GetProperty("whatsapp").GetProperty("connected").GetBoolean());
        Assert.Equal($"/admin/v1/businesses/{business.GetProperty("id").GetInt64()}", response.Headers.Location?.ToString());
    }

    [Fact]
    public async Task EveryBusinessIsListedOldestFirstWithItsConnectionButNeverItsToken()
    {
        // An operator's way back to a business whose id they did not keep.
        await using var server = new TwaBotApiFactory();
        var first = await server.CreateBusinessAsync(plan: "Growth", name: "Sharma Sweets");
        var second = await server.CreateBusinessAsync(plan: "Pro", name: "Rahul Traders", timeZone: "Europe/London");
        var phoneNumberId = await server.ConnectWhatsAppAsync(second);
        using var admin = server.CreateAdminClient();

        var response = await admin.GetAsync("/admin/v1/businesses");

        var text = await response.Content.ReadAsStringAsync();
        var businesses = (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("businesses").EnumerateArray().ToList();
        // The sandbox's own business, seeded at the first start, then the two made here.
        Assert.Equal([(1, "Sandbox Business", "Pro", true), (first, "Sharma Sweets", "Growth", false), (second, "Rahul Traders", "Pro", true)], businesses.Select(b =>
            (b.GetProperty("id").GetInt64(), b.GetProperty("name").GetString(), b.GetProperty("plan").GetString(), b.GetProperty("whatsapp").GetProperty("connected").GetBoolean())));
        Assert.Equal(("Europe/London", phoneNumberId), (businesses[2].GetProperty("time_zone").GetString(),
            businesses[2].GetProperty("whatsapp").GetProperty("phone_number_id").GetString()));
        Assert.DoesNotContain((await server.AccessTokenOfAsync(second))!, text, StringComparison.Ordinal);
        Assert.DoesNotContain("access_token", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheListNeedsTheAdminKey()
    {
        using var client = factory.CreateClient();

        var response = await client.GetAsync("/admin/v1/businesses");

        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "ADMIN_UNAUTHORIZED");
    }

    [Fact]
    public async Task TheTimeZoneDefaultsToConfiguration()
    {
        var id = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var json = await (await admin.GetAsync($"/admin/v1/businesses/{id}")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal("Asia/Kolkata", json.GetProperty("business").GetProperty("time_zone").GetString());
    }

    [Theory]
    [InlineData("""{"plan":"Pro"}""", "name")]
    [InlineData("""{"name":"  ","plan":"Pro"}""", "name")]
    [InlineData("""{"name":"Acme"}""", "plan")]
    [InlineData("""{"name":"Acme","plan":"Enterprise"}""", "plan")]
    [InlineData("""{"name":"Acme","plan":"1"}""", "plan")]
    [InlineData("""{"name":"Acme","plan":"Pro","time_zone":"Mars/Olympus"}""", "time_zone")]
    [InlineData("""{"name":"Acme","plan":"Pro","time_zone":"India Standard Time"}""", "time_zone")]
    [InlineData("""{"name":"Acme","plan":"Pro","id":7}""", "id")]
    [InlineData("""{"name":["Acme"],"plan":"Pro"}""", "name")]
    [InlineData("""{"name":"Acme\nCorp","plan":"Pro"}""", "name")]
    [InlineData("""{"name":"Acme\u0000","plan":"Pro"}""", "name")]
    public async Task InvalidBusinessesAreRefusedNamingTheField(string body, string field)
    {
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsync("/admin/v1/businesses", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal(field, json.GetProperty("field").GetString());
    }

    [Theory]
    [InlineData(200, HttpStatusCode.Created)]
    [InlineData(201, HttpStatusCode.BadRequest)]
    public async Task ABusinessNameTakesTwoHundredCharacters(int length, HttpStatusCode status)
    {
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsJsonAsync("/admin/v1/businesses", new { name = new string('n', length), plan = "Pro" });

        Assert.Equal(status, response.StatusCode);
    }

    [Fact]
    public async Task UnknownBusinessReturns404()
    {
        using var admin = factory.CreateAdminClient();

        var response = await admin.GetAsync("/admin/v1/businesses/999999");

        await response.AssertErrorAsync(HttpStatusCode.NotFound, "BUSINESS_NOT_FOUND");
    }

    [Theory]
    [InlineData("GET", 0)] // below every id: no business, not the first one after it
    [InlineData("GET", -1)]
    [InlineData("PATCH", 0)]
    [InlineData("PATCH", 999999)]
    public async Task AnIdNoBusinessHasIsAnswered404AndChangesNothing(string method, long id)
    {
        using var admin = factory.CreateAdminClient();

        var response = await admin.SendAsync(new HttpRequestMessage(new HttpMethod(method), $"/admin/v1/businesses/{id}")
        {
            Content = method == "PATCH" ? JsonContent.Create(new { name = "Renamed" }) : null,
        });

        Assert.Equal($"Business {id} not found.", (await response.AssertErrorAsync(HttpStatusCode.NotFound, "BUSINESS_NOT_FOUND")).GetProperty("error").GetString());
        var sandbox = (await (await admin.GetAsync("/admin/v1/businesses/1")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("business");
        Assert.Equal("Sandbox Business", sandbox.GetProperty("name").GetString());
    }

    [Fact]
    public async Task PatchChangesOnlyTheFieldsGiven()
    {
        var id = await factory.CreateBusinessAsync(plan: "Growth", name: "Before");
        using var admin = factory.CreateAdminClient();

        var response = await admin.PatchAsJsonAsync($"/admin/v1/businesses/{id}", new { plan = "Pro", time_zone = "America/New_York" });

        var business = (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("business");
        Assert.Equal("Before", business.GetProperty("name").GetString());
        Assert.Equal("Pro", business.GetProperty("plan").GetString());
        Assert.Equal("America/New_York", business.GetProperty("time_zone").GetString());
    }

    [Fact]
    public async Task APlanChangeIsSeenByTheNextApiRequest()
    {
        var (businessId, client, _) = await factory.CreateTenantAsync(name: "Old Name");
        (await client.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();
        using var admin = factory.CreateAdminClient();

        (await admin.PatchAsJsonAsync($"/admin/v1/businesses/{businessId}", new { name = "New Name" })).EnsureSuccessStatusCode();
        var health = await (await client.GetAsync("/api/v1/health")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal("New Name", health.GetProperty("business").GetString());
    }

    [Fact]
    public async Task AnInvalidPatchChangesNothing()
    {
        var id = await factory.CreateBusinessAsync(plan: "Growth", name: "Stays");
        using var admin = factory.CreateAdminClient();

        var response = await admin.PatchAsJsonAsync($"/admin/v1/businesses/{id}", new { name = "Changed", plan = "Gold" });

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        var business = (await (await admin.GetAsync($"/admin/v1/businesses/{id}")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("business");
        Assert.Equal("Stays", business.GetProperty("name").GetString());
        Assert.Equal("Growth", business.GetProperty("plan").GetString());
    }

    [Theory]
    [InlineData("""{"name":null}""", "name")]
    [InlineData("""{"plan":null}""", "plan")]
    [InlineData("""{"time_zone":null}""", "time_zone")]
    [InlineData("""{"name":"Renamed","id":7}""", "id")] // a field no PATCH sets
    [InlineData("""{"name":"Renamed","plann":"Pro"}""", "plann")] // a typo is not a change left out
    public async Task ANullOrUnknownFieldIsRefusedNamingItAndChangesNothing(string body, string field)
    {
        // None can be cleared, as PATCH of an API key's name cannot: null used to be taken as "leave it", answering 200 for a
        // change not made.
        var id = await factory.CreateBusinessAsync(plan: "Growth", name: "Stays");
        using var admin = factory.CreateAdminClient();

        var response = await admin.PatchAsync($"/admin/v1/businesses/{id}", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(field, (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("field").GetString());
        var business = (await (await admin.GetAsync($"/admin/v1/businesses/{id}")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("business");
        Assert.Equal("Stays", business.GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("asia/kolkata", "Asia/Kolkata")] // the letter case
    [InlineData(" Asia/Kolkata", "Asia/Kolkata")] // pasted with a space
    [InlineData("America/New_york", "America/New_York")]
    [InlineData("America/New York", "America/New_York")]
    [InlineData("Europe/Londn", "Europe/London")] // a letter left out
    [InlineData("Asia/Kolkatta", "Asia/Kolkata")]
    [InlineData("asia/omsk", "Asia/Omsk")] // the nearest: Asia/Tomsk is a letter further
    public async Task AZoneWrittenNearlyRightIsRefusedNamingTheZoneItMeant(string written, string meant)
    {
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsJsonAsync("/admin/v1/businesses", new { name = "Acme", plan = "Pro", time_zone = written });

        var error = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal(("time_zone", $"time_zone '{written}' is not an IANA time zone as written (spelled exactly, capitals and all): did you mean {meant}?"),
            (error.GetProperty("field").GetString(), error.GetProperty("error").GetString()));
    }

    [Theory]
    [InlineData("IST")] // an abbreviation or an offset is no zone's near miss: the answer gives an example instead
    [InlineData("UTC+5:30")]
    [InlineData("Mars/Olympus")]
    [InlineData("America/Curacas")] // America/Caracas and America/Curacao equally near: no one zone is meant
    public async Task AZoneNothingIsNearIsRefusedWithAnExample(string written)
    {
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsJsonAsync("/admin/v1/businesses", new { name = "Acme", plan = "Pro", time_zone = written });

        var error = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal($"time_zone '{written}' is not an IANA time zone this server's time-zone database holds, spelled exactly (e.g. Asia/Kolkata).",
            error.GetProperty("error").GetString());
    }

    [Fact]
    public async Task ANullTimeZoneIsCalledNullNotAnEmptyText()
    {
        var id = await factory.CreateBusinessAsync(plan: "Growth", name: "Zone");
        using var admin = factory.CreateAdminClient();

        var response = await admin.PatchAsync($"/admin/v1/businesses/{id}",
            new StringContent("""{"time_zone":null}""", System.Text.Encoding.UTF8, "application/json"));

        var error = (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("error").GetString();
        Assert.Contains("null", error, StringComparison.Ordinal);
        Assert.DoesNotContain("''", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Starter", "Starter")]
    [InlineData("Pro", "Pro")]
    [InlineData(" pro ", "Pro")] // as pasted from a spreadsheet: any case, spaces around
    public async Task TheGivenPlanIsStored(string given, string stored)
    {
        using var admin = factory.CreateAdminClient();

        var created = (await (await admin.PostAsJsonAsync("/admin/v1/businesses", new { name = "Planned", plan = given }))
            .ReadJsonAsync(HttpStatusCode.Created)).GetProperty("business");
        var read = (await (await admin.GetAsync($"/admin/v1/businesses/{created.GetProperty("id").GetInt64()}"))
            .ReadJsonAsync(HttpStatusCode.OK)).GetProperty("business");

        Assert.Equal(stored, created.GetProperty("plan").GetString());
        Assert.Equal(stored, read.GetProperty("plan").GetString());
    }

    [Fact]
    public async Task ANameIsStoredWithoutTheSpacesAroundIt()
    {
        using var admin = factory.CreateAdminClient();
        var created = (await (await admin.PostAsJsonAsync("/admin/v1/businesses", new { name = "  Rahul Traders ", plan = "Pro" }))
            .ReadJsonAsync(HttpStatusCode.Created)).GetProperty("business");
        var id = created.GetProperty("id").GetInt64();

        var patched = (await (await admin.PatchAsJsonAsync($"/admin/v1/businesses/{id}", new { name = " Rahul & Sons  " }))
            .ReadJsonAsync(HttpStatusCode.OK)).GetProperty("business");
        var read = (await (await admin.GetAsync($"/admin/v1/businesses/{id}")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("business");

        Assert.Equal("Rahul Traders", created.GetProperty("name").GetString());
        Assert.Equal("Rahul & Sons", patched.GetProperty("name").GetString());
        Assert.Equal("Rahul & Sons", read.GetProperty("name").GetString());
    }

    [Fact]
    public async Task APatchOfTheNameAloneLeavesThePlanAndTheTimeZone()
    {
        var id = await factory.CreateBusinessAsync(plan: "Starter", name: "Before", timeZone: "Europe/London");
        using var admin = factory.CreateAdminClient();

        (await admin.PatchAsJsonAsync($"/admin/v1/businesses/{id}", new { name = "After" })).EnsureSuccessStatusCode();

        var business = (await (await admin.GetAsync($"/admin/v1/businesses/{id}")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("business");
        Assert.Equal("After", business.GetProperty("name").GetString());
        Assert.Equal("Starter", business.GetProperty("plan").GetString());
        Assert.Equal("Europe/London", business.GetProperty("time_zone").GetString());
    }
}
