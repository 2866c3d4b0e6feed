using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Admin;

public class ApiKeysAdminTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task CreatingAKeyShowsItOnceWithItsSettings()
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        var expiresAt = factory.Clock.GetUtcNow().AddDays(30);

        var response = await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/api-keys", new
        {
            name = "My CRM",
            permissions = new[] { "send_template", "send_otp" },
            per_minute_limit = 30,
            daily_limit = 100,
            expires_at = expiresAt,
        });

        var apiKey = (await response.ReadJsonAsync(HttpStatusCode.Created)).GetProperty("api_key");
        var key = apiKey.GetProperty("key").GetString()!;
        Assert.StartsWith("twb_test_", key, StringComparison.Ordinal);
        Assert.Equal(key[..15], apiKey.GetProperty("prefix").GetString());
        Assert.Equal("My CRM", apiKey.GetProperty("name").GetString());
        Assert.Equal(["send_template", "send_otp"], apiKey.GetProperty("permissions").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(30, apiKey.GetProperty("per_minute_limit").GetInt32());
        Assert.Equal(100, apiKey.GetProperty("daily_limit").GetInt32());
        Assert.Equal(expiresAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture),
            apiKey.GetProperty("expires_at").GetString());
    }

    [Theory]
    [InlineData(new[] { "send_text", "*", "send_text" }, new[] { "*" })] // "*" grants everything: stored alone
    [InlineData(new[] { "send_otp", "send_template", "send_otp" }, new[] { "send_template", "send_otp" })] // once each, in the docs' order
    [InlineData(new[] { "SEND_TEXT", "Send_Template", "send_text" }, new[] { "send_template", "send_text" })] // any case, as plan and state
    public async Task PermissionsAreStoredOnceEachAndAStarAlone(string[] given, string[] stored)
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/api-keys", new { name = "My CRM", permissions = given });

        var apiKey = (await response.ReadJsonAsync(HttpStatusCode.Created)).GetProperty("api_key");
        Assert.Equal(stored, apiKey.GetProperty("permissions").EnumerateArray().Select(p => p.GetString()));
    }

    [Fact]
    public async Task ListingKeysNeverShowsTheKeyOrItsHash()
    {
        var businessId = await factory.CreateBusinessAsync();
        var (key, _) = await factory.CreateApiKeyAsync(businessId);
        using var client = factory.CreateApiClient(key);
        (await client.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();
        using var admin = factory.CreateAdminClient();

        var response = await admin.GetAsync($"/admin/v1/businesses/{businessId}/api-keys");
        var text = await response.Content.ReadAsStringAsync();

        var keys = (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("api_keys");
        var listed = Assert.Single(keys.EnumerateArray());
        Assert.DoesNotContain(key[15..], text, StringComparison.Ordinal);
        Assert.False(listed.TryGetProperty("key", out _));
        Assert.False(listed.TryGetProperty("key_hash", out _));
        Assert.Equal("2026-04-14T10:30:45.000Z", listed.GetProperty("last_used_at").GetString());
    }

    [Fact]
    public async Task KeysOfOtherBusinessesAreNotListed()
    {
        var mine = await factory.CreateBusinessAsync();
        var theirs = await factory.CreateBusinessAsync();
        await factory.CreateApiKeyAsync(theirs);
        using var admin = factory.CreateAdminClient();

        var keys = (await (await admin.GetAsync($"/admin/v1/businesses/{mine}/api-keys")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("api_keys");

        Assert.Equal(0, keys.GetArrayLength());
    }

    [Theory]
    [InlineData(100, HttpStatusCode.Created)]
    [InlineData(101, HttpStatusCode.BadRequest)]
    public async Task AKeyNameTakesOneHundredCharacters(int length, HttpStatusCode status)
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/api-keys", new { name = new string('k', length), permissions = new[] { "*" } });

        Assert.Equal(status, response.StatusCode);
    }

    [Theory]
    [InlineData("""{"permissions":["*"]}""", "name")]
    [InlineData("""{"name":"k"}""", "permissions")]
    [InlineData("""{"name":"k","permissions":[]}""", "permissions")]
    [InlineData("""{"name":"k","permissions":["send_everything"]}""", "permissions[0]")]
    [InlineData("""{"name":"k","permissions":["*"],"per_minute_limit":0}""", "per_minute_limit")]
    [InlineData("""{"name":"k","permissions":["*"],"daily_limit":-5}""", "daily_limit")]
    [InlineData("""{"name":"k","permissions":["*"],"expires_at":"2020-01-01T00:00:00Z"}""", "expires_at")]
    [InlineData("""{"name":"k","permissions":["*"],"expires_at":"soon"}""", "expires_at")]
    [InlineData("""{"name":"k","permissions":["*"],"expires_at":"01/12/2099"}""", "expires_at")] // 1 December or 12 January? ISO only
    [InlineData("""{"name":"k","permissions":["*"],"expires_at":"Dec 1, 2099"}""", "expires_at")]
    [InlineData("""{"name":"k","permissions":["*"],"key_hash":"00"}""", "key_hash")]
    [InlineData("""{"name":"k\r\nv","permissions":["*"]}""", "name")]
    public async Task InvalidKeysAreRefusedNamingTheField(string body, string field)
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsync($"/admin/v1/businesses/{businessId}/api-keys",
            new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal(field, json.GetProperty("field").GetString());
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PATCH")]
    public async Task ANullPermissionIsNamedAsNullNotQuotedAsEmptyText(string method)
    {
        // A dashboard's unset select sends null: "Unknown permission ''" read as if an empty text had been sent.
        var businessId = await factory.CreateBusinessAsync();
        var (_, keyId) = await factory.CreateApiKeyAsync(businessId);
        using var admin = factory.CreateAdminClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), method == "POST" ? $"/admin/v1/businesses/{businessId}/api-keys" : $"/admin/v1/api-keys/{keyId}")
        {
            Content = new StringContent("""{"name":"k","permissions":["send_text",null]}""", System.Text.Encoding.UTF8, "application/json"),
        };

        var response = await admin.SendAsync(request);

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal(("permissions[1]", "permissions[1] is null: give each permission as text, one of send_template, send_text, send_media, send_otp, or \"*\"."),
            (json.GetProperty("field").GetString(), json.GetProperty("error").GetString()));
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PATCH")]
    public async Task ALimitThatIsNoWholeNumberIsToldToBeOne(string method)
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        var created = await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/api-keys", new { name = "k", permissions = new[] { "*" } });
        var keyId = (await created.ReadJsonAsync(HttpStatusCode.Created)).GetProperty("api_key").GetProperty("id").GetInt64();

        using var request = new HttpRequestMessage(new HttpMethod(method),
            method == "POST" ? $"/admin/v1/businesses/{businessId}/api-keys" : $"/admin/v1/api-keys/{keyId}")
        {
            Content = new StringContent("""{"name":"k","permissions":["*"],"per_minute_limit":1.5}""", System.Text.Encoding.UTF8, "application/json"),
        };
        var response = await admin.SendAsync(request);

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("per_minute_limit", json.GetProperty("field").GetString());
        Assert.Equal("per_minute_limit must be a whole number within range.", json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task AnEmptyLimitIsRefusedByAPatchAsByACreateAndClearsNothing()
    {
        // A form's emptied number field is no null that clears the limit: refused, as the create refuses it.
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        var created = await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/api-keys", new { name = "k", permissions = new[] { "*" }, daily_limit = 5 });
        var keyId = (await created.ReadJsonAsync(HttpStatusCode.Created)).GetProperty("api_key").GetProperty("id").GetInt64();

        var response = await admin.PatchAsync($"/admin/v1/api-keys/{keyId}", new StringContent("""{"daily_limit":""}""", System.Text.Encoding.UTF8, "application/json"));

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("daily_limit must be a whole number within range.", json.GetProperty("error").GetString());
        var key = await (await admin.GetAsync($"/admin/v1/api-keys/{keyId}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(5, key.GetProperty("api_key").GetProperty("daily_limit").GetInt32());
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PATCH")] // read through PatchField, which must pass the format's words on
    public async Task AnExpiryThatIsNotIsoIsRefusedNamingTheFormat(string method)
    {
        var businessId = await factory.CreateBusinessAsync();
        var (_, keyId) = await factory.CreateApiKeyAsync(businessId);
        using var admin = factory.CreateAdminClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), method == "POST" ? $"/admin/v1/businesses/{businessId}/api-keys" : $"/admin/v1/api-keys/{keyId}")
        {
            Content = JsonContent.Create(new { name = "k", permissions = new[] { "*" }, expires_at = "01/12/2099" }),
        };

        var response = await admin.SendAsync(request);

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("expires_at must be an ISO-8601 time such as 2026-12-31T23:59:59Z (a date alone is midnight UTC).",
            json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task PatchChangesGivenFieldsAndNullClearsAnOverride()
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        var created = (await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/api-keys",
            new { name = "k", permissions = new[] { "*" }, per_minute_limit = 10, daily_limit = 20 })).ReadJsonAsync(HttpStatusCode.Created))
            .GetProperty("api_key");

        var response = await admin.PatchAsync($"/admin/v1/api-keys/{created.GetProperty("id").GetInt64()}",
            new StringContent("""{"per_minute_limit":null,"permissions":["send_text","send_text"]}""", System.Text.Encoding.UTF8, "application/json"));

        var apiKey = (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("api_key");
        Assert.Equal(JsonValueKind.Null, apiKey.GetProperty("per_minute_limit").ValueKind);
        Assert.Equal(20, apiKey.GetProperty("daily_limit").GetInt32());
        Assert.Equal("k", apiKey.GetProperty("name").GetString());
        Assert.Equal(["send_text"], apiKey.GetProperty("permissions").EnumerateArray().Select(p => p.GetString()));
        Assert.False(apiKey.TryGetProperty("key", out _));
    }

    [Fact]
    public async Task PatchWithNullClearsTheDailyLimitAndTheExpiry()
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        var created = (await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/api-keys",
            new { name = "k", permissions = new[] { "*" }, daily_limit = 20, expires_at = "2099-12-31T23:59:59Z" })).ReadJsonAsync(HttpStatusCode.Created))
            .GetProperty("api_key");

        var response = await admin.PatchAsync($"/admin/v1/api-keys/{created.GetProperty("id").GetInt64()}",
            new StringContent("""{"daily_limit":null,"expires_at":null}""", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(JsonValueKind.Null, (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("api_key").GetProperty("daily_limit").ValueKind);
        var listed = (await (await admin.GetAsync($"/admin/v1/businesses/{businessId}/api-keys")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("api_keys")[0];
        Assert.Equal((JsonValueKind.Null, JsonValueKind.Null), (listed.GetProperty("daily_limit").ValueKind, listed.GetProperty("expires_at").ValueKind));
    }

    [Theory] // only the limits and the expiry can be cleared: a key keeps a name and at least one permission
    [InlineData("""{"name":null}""", "name")]
    [InlineData("""{"permissions":null}""", "permissions")]
    public Task PatchOfNullWhereNothingCanBeClearedIsRefusedNamingTheFieldAndChangesNothing(string body, string field) =>
        PatchIsRefusedNamingTheFieldAndChangesNothingAsync(body, field);

    [Theory]
    [InlineData("""{"daily_limit":"abc"}""", "daily_limit")]
    [InlineData("""{"daily_limit":99999999999}""", "daily_limit")]
    [InlineData("""{"permissions":"*"}""", "permissions")]
    [InlineData("""{"expires_at":"garbage"}""", "expires_at")]
    [InlineData("""{"name":7}""", "name")]
    public Task PatchValuesOfTheWrongTypeAreRefusedNamingTheFieldAndChangeNothing(string body, string field) =>
        PatchIsRefusedNamingTheFieldAndChangesNothingAsync(body, field);

    [Theory]
    [InlineData("""{"name":"moved","business_id":2}""", "business_id")]
    [InlineData("""{"name":"moved","key_hash":"00"}""", "key_hash")]
    [InlineData("""{"name":"moved","key":"twb_test_chosen"}""", "key")]
    [InlineData("""{"name":"moved","daily_used":0}""", "daily_used")]
    [InlineData("""{"name":"moved","plan":"Pro"}""", "plan")]
    [InlineData("""{"name":"moved","revoked_at":null}""", "revoked_at")]
    public Task PatchOfAFieldNoCallerMaySetIsRefusedNamingItAndChangesNothing(string body, string field) =>
        // Mass assignment (OWASP API3): bound to an explicit record that refuses unknown fields, never to the entity.
        PatchIsRefusedNamingTheFieldAndChangesNothingAsync(body, field);

    [Fact]
    public async Task AFieldNoCallerMaySetIsToldSoInWords()
    {
        var businessId = await factory.CreateBusinessAsync();
        var (_, id) = await factory.CreateApiKeyAsync(businessId);
        using var admin = factory.CreateAdminClient();

        var response = await admin.PatchAsync($"/admin/v1/api-keys/{id}",
            new StringContent("""{"name":"moved","key_hash":"00"}""", System.Text.Encoding.UTF8, "application/json"));

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("key_hash is not allowed here.", json.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("""{"name":"moved","expires_at":"2026-01-01T00:00:00Z"}""", "expires_at")]
    [InlineData("""{"name":"moved","per_minute_limit":0}""", "per_minute_limit")]
    [InlineData("""{"name":"moved","daily_limit":0}""", "daily_limit")]
    [InlineData("""{"name":"moved","daily_limit":-1}""", "daily_limit")]
    public Task PatchHoldsLimitsAndExpiryToTheCreateRulesAndChangesNothing(string body, string field) =>
        PatchIsRefusedNamingTheFieldAndChangesNothingAsync(body, field);

    private async Task PatchIsRefusedNamingTheFieldAndChangesNothingAsync(string body, string field)
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        var created = (await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/api-keys",
            new { name = "k", permissions = new[] { "*" }, daily_limit = 20 })).ReadJsonAsync(HttpStatusCode.Created)).GetProperty("api_key");
        var id = created.GetProperty("id").GetInt64();

        var response = await admin.PatchAsync($"/admin/v1/api-keys/{id}", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal(field, json.GetProperty("field").GetString());
        var listed = (await (await admin.GetAsync($"/admin/v1/businesses/{businessId}/api-keys")).ReadJsonAsync(HttpStatusCode.OK))
            .GetProperty("api_keys")[0];
        Assert.Equal(20, listed.GetProperty("daily_limit").GetInt32());
        Assert.Equal("k", listed.GetProperty("name").GetString());
    }

    [Fact]
    public async Task PatchOrRevokeOfAnUnknownKeyReturns404()
    {
        using var admin = factory.CreateAdminClient();

        var patch = await admin.PatchAsJsonAsync("/admin/v1/api-keys/987654", new { name = "x" });
        var delete = await admin.DeleteAsync("/admin/v1/api-keys/987654");

        await patch.AssertErrorAsync(HttpStatusCode.NotFound, "API_KEY_NOT_FOUND");
        await delete.AssertErrorAsync(HttpStatusCode.NotFound, "API_KEY_NOT_FOUND");
    }

    [Fact]
    public async Task RevokingShowsRevokedAt()
    {
        var businessId = await factory.CreateBusinessAsync();
        var (_, id) = await factory.CreateApiKeyAsync(businessId);
        using var admin = factory.CreateAdminClient();

        var response = await admin.DeleteAsync($"/admin/v1/api-keys/{id}");

        var apiKey = (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("api_key");
        Assert.Equal("2026-04-14T10:30:45.000Z", apiKey.GetProperty("revoked_at").GetString());
    }

    [Fact]
    public async Task KeysForAnUnknownBusinessReturn404()
    {
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsJsonAsync("/admin/v1/businesses/424242/api-keys", new { name = "k", permissions = new[] { "*" } });

        await response.AssertErrorAsync(HttpStatusCode.NotFound, "BUSINESS_NOT_FOUND");
    }

    [Fact]
    public async Task AKeyNameIsStoredWithoutTheSpacesAroundIt()
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        var created = (await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/api-keys",
            new { name = "  My CRM ", permissions = new[] { "*" } })).ReadJsonAsync(HttpStatusCode.Created)).GetProperty("api_key");
        var id = created.GetProperty("id").GetInt64();

        var patched = (await (await admin.PatchAsJsonAsync($"/admin/v1/api-keys/{id}", new { name = " Billing  " }))
            .ReadJsonAsync(HttpStatusCode.OK)).GetProperty("api_key");

        Assert.Equal("My CRM", created.GetProperty("name").GetString());
        Assert.Equal("Billing", patched.GetProperty("name").GetString());
        var read = (await (await admin.GetAsync($"/admin/v1/api-keys/{id}")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("api_key");
        Assert.Equal("Billing", read.GetProperty("name").GetString());
    }

    [Fact]
    public async Task APatchLeavesTheExpiryAndLimitsItDoesNotName()
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        var expiresAt = new DateTime(2099, 12, 31, 23, 59, 59, DateTimeKind.Utc);
        var id = (await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/api-keys",
            new { name = "k", permissions = new[] { "*" }, per_minute_limit = 10, daily_limit = 20, expires_at = expiresAt }))
            .ReadJsonAsync(HttpStatusCode.Created)).GetProperty("api_key").GetProperty("id").GetInt64();

        (await admin.PatchAsJsonAsync($"/admin/v1/api-keys/{id}", new { permissions = new[] { "send_text" } })).EnsureSuccessStatusCode();

        var read = (await (await admin.GetAsync($"/admin/v1/api-keys/{id}")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("api_key");
        Assert.Equal("2099-12-31T23:59:59.000Z", read.GetProperty("expires_at").GetString());
        Assert.Equal(10, read.GetProperty("per_minute_limit").GetInt32());
        Assert.Equal(20, read.GetProperty("daily_limit").GetInt32());
        Assert.Equal(["send_text"], read.GetProperty("permissions").EnumerateArray().Select(p => p.GetString()));
    }

    [Fact]
    public async Task APermissionAPatchTakesAwayIsRefusedFromTheKeysNextRequest()
    {
        var businessId = await factory.CreateBusinessAsync();
        var (key, id) = await factory.CreateApiKeyAsync(businessId, ["send_text", "send_template"]);
        using var client = factory.CreateApiClient(key);
        using var admin = factory.CreateAdminClient();
        var text = new { phone = "919876543210", message = "Hi" };
        var allowed = await client.PostAsJsonAsync("/api/v1/send-text", text);
        Assert.NotEqual(HttpStatusCode.Forbidden, allowed.StatusCode); // the key is read, and held for the next requests

        (await admin.PatchAsJsonAsync($"/admin/v1/api-keys/{id}", new { permissions = new[] { "send_template" } })).EnsureSuccessStatusCode();
        var refused = await client.PostAsJsonAsync("/api/v1/send-text", text);

        await refused.AssertErrorAsync(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
    }

    [Theory]
    [InlineData("   ")]
    [InlineData("CRM\nkey")]
    public async Task APatchedNameIsCheckedAsACreatedOneIsAndNothingChanges(string name)
    {
        var businessId = await factory.CreateBusinessAsync();
        var (_, id) = await factory.CreateApiKeyAsync(businessId, ["send_text"]);
        using var admin = factory.CreateAdminClient();
        var before = await (await admin.GetAsync($"/admin/v1/api-keys/{id}")).ReadJsonAsync(HttpStatusCode.OK);

        var response = await admin.PatchAsJsonAsync($"/admin/v1/api-keys/{id}", new { name });

        Assert.Equal("name", (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("field").GetString());
        var after = await (await admin.GetAsync($"/admin/v1/api-keys/{id}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(before.GetRawText(), after.GetRawText());
    }

    [Fact]
    public async Task RevokingAgainKeepsTheTimeOfTheFirstRevocation()
    {
        var businessId = await factory.CreateBusinessAsync();
        var (_, id) = await factory.CreateApiKeyAsync(businessId);
        using var admin = factory.CreateAdminClient();
        // Revoked earlier than this fixture's clock reads, so a second revocation that moved it would show.
        await factory.WithDbAsync(async db =>
        {
            (await db.ApiKeys.SingleAsync(k => k.Id == id)).RevokedAt = new DateTime(2026, 4, 1, 8, 0, 0, DateTimeKind.Utc);
            await db.SaveChangesAsync();
        });

        var again = await admin.DeleteAsync($"/admin/v1/api-keys/{id}");

        Assert.Equal("2026-04-01T08:00:00.000Z", (await again.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("api_key").GetProperty("revoked_at").GetString());
        var listed = (await (await admin.GetAsync($"/admin/v1/businesses/{businessId}/api-keys")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("api_keys")[0];
        Assert.Equal("2026-04-01T08:00:00.000Z", listed.GetProperty("revoked_at").GetString());
    }

    [Fact]
    public async Task ReadingOneKeyNeverShowsTheKeyOrItsHash()
    {
        var businessId = await factory.CreateBusinessAsync();
        var (key, id) = await factory.CreateApiKeyAsync(businessId);
        using var admin = factory.CreateAdminClient();

        var response = await admin.GetAsync($"/admin/v1/api-keys/{id}");
        var text = await response.Content.ReadAsStringAsync();

        var apiKey = (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("api_key");
        Assert.Equal(key[..15], apiKey.GetProperty("prefix").GetString());
        Assert.False(apiKey.TryGetProperty("key", out _));
        Assert.False(apiKey.TryGetProperty("key_hash", out _));
        Assert.DoesNotContain(key[15..], text, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key))), text,
            StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task KeysAreListedInTheOrderTheyWereCreated()
    {
        var businessId = await factory.CreateBusinessAsync();
        await factory.CreateApiKeyAsync(businessId, name: "first");
        await factory.CreateApiKeyAsync(businessId, name: "second");
        await factory.CreateApiKeyAsync(businessId, name: "third");
        using var admin = factory.CreateAdminClient();

        var keys = (await (await admin.GetAsync($"/admin/v1/businesses/{businessId}/api-keys")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("api_keys");

        Assert.Equal(["first", "second", "third"], keys.EnumerateArray().Select(k => k.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task ListingTheKeysOfAnUnknownBusinessReturns404()
    {
        using var admin = factory.CreateAdminClient();

        var response = await admin.GetAsync("/admin/v1/businesses/424243/api-keys");

        await response.AssertErrorAsync(HttpStatusCode.NotFound, "BUSINESS_NOT_FOUND");
    }
}
