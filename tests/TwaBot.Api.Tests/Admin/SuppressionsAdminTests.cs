using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Conversations;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Admin;

public class SuppressionsAdminTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task AddingStoresTheNormalizedPhone()
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/suppressions",
            new { phone = "+91 98765 43210", state = "opted_out", reason = "Asked by phone" });

        var suppression = (await response.ReadJsonAsync(HttpStatusCode.Created)).GetProperty("suppression");
        Assert.Equal("919876543210", suppression.GetProperty("phone").GetString());
        Assert.Equal("opted_out", suppression.GetProperty("state").GetString());
        Assert.Equal("Asked by phone", suppression.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task AddingAgainUpdatesTheState()
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/suppressions", new { phone = "9876543210", state = "opted_out" }))
            .EnsureSuccessStatusCode();

        var response = await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/suppressions", new { phone = "919876543210", state = "blocked" });

        var suppression = (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("suppression");
        Assert.Equal("blocked", suppression.GetProperty("state").GetString());
        await factory.WithDbAsync(async db =>
            Assert.Equal(1, await db.Suppressions.CountAsync(s => s.BusinessId == businessId)));
    }

    [Theory]
    [InlineData("Opted_Out", "opted_out")]
    [InlineData(" BLOCKED ", "blocked")]
    public async Task AStateIsReadInAnyCaseAndStoredAsDocumented(string given, string stored)
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/suppressions", new { phone = "9876543210", state = given });

        Assert.Equal(stored, (await response.ReadJsonAsync(HttpStatusCode.Created)).GetProperty("suppression").GetProperty("state").GetString());
        await factory.WithDbAsync(async db =>
            Assert.Equal(stored, (await db.Suppressions.SingleAsync(s => s.BusinessId == businessId)).State));
    }

    [Theory]
    [InlineData("""{"phone":"12ab","state":"opted_out"}""", "INVALID_PHONE", "phone")]
    [InlineData("""{"state":"opted_out"}""", "VALIDATION_FAILED", "phone")] // missing, as on the public API
    [InlineData("""{"phone":"  ","state":"opted_out"}""", "VALIDATION_FAILED", "phone")]
    [InlineData("""{"phone":"9876543210","state":"annoyed"}""", "VALIDATION_FAILED", "state")]
    [InlineData("""{"phone":"9876543210"}""", "VALIDATION_FAILED", "state")]
    public async Task InvalidSuppressionsAreRefused(string body, string code, string field)
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsync($"/admin/v1/businesses/{businessId}/suppressions",
            new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, code);
        Assert.Equal(field, json.GetProperty("field").GetString());
    }

    [Fact]
    public async Task RemovingOneNumberLeavesTheOthersAndFindingOneShowsOnlyIt()
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/suppressions", new { phone = "919876543210", state = "opted_out" }))
            .EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/suppressions", new { phone = "919876543211", state = "blocked" }))
            .EnsureSuccessStatusCode();

        var unknown = await admin.GetAsync($"/admin/v1/businesses/{businessId}/suppressions/919876543212");
        (await admin.DeleteAsync($"/admin/v1/businesses/{businessId}/suppressions/919876543210")).EnsureSuccessStatusCode();
        var other = await admin.GetAsync($"/admin/v1/businesses/{businessId}/suppressions/919876543211");

        await unknown.AssertErrorAsync(HttpStatusCode.NotFound, "SUPPRESSION_NOT_FOUND");
        Assert.Equal("blocked", (await other.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("suppression").GetProperty("state").GetString());
    }

    [Fact]
    public async Task RemovingTakesThePhoneOffTheListInAnyFormat()
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/suppressions", new { phone = "919876543210", state = "opted_out" }))
            .EnsureSuccessStatusCode();

        var removed = await admin.DeleteAsync($"/admin/v1/businesses/{businessId}/suppressions/+91-9876543210");
        var again = await admin.DeleteAsync($"/admin/v1/businesses/{businessId}/suppressions/919876543210");

        Assert.True((await removed.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("success").GetBoolean());
        await again.AssertErrorAsync(HttpStatusCode.NotFound, "SUPPRESSION_NOT_FOUND");
    }

    [Fact]
    public async Task SuppressionsBelongToTheirBusiness()
    {
        var mine = await factory.CreateBusinessAsync();
        var theirs = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{theirs}/suppressions", new { phone = "919876543210", state = "blocked" }))
            .EnsureSuccessStatusCode();

        var response = await admin.DeleteAsync($"/admin/v1/businesses/{mine}/suppressions/919876543210");

        await response.AssertErrorAsync(HttpStatusCode.NotFound, "SUPPRESSION_NOT_FOUND");
    }

    [Fact]
    public async Task AddingAgainReplacesTheReason()
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/suppressions",
            new { phone = "919876543210", state = "opted_out", reason = "Asked by phone" })).EnsureSuccessStatusCode();

        var response = await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/suppressions",
            new { phone = "919876543210", state = "blocked", reason = "Number reported as spam" });

        Assert.Equal("Number reported as spam",
            (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("suppression").GetProperty("reason").GetString());
        var read = await admin.GetAsync($"/admin/v1/businesses/{businessId}/suppressions/919876543210");
        Assert.Equal("Number reported as spam", (await read.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("suppression").GetProperty("reason").GetString());
    }

    [Fact]
    public async Task AReasonIsStoredWithoutThePaddingAroundIt()
    {
        // Only the trimmed reason counts towards the 500 characters, so only it is kept: not 60 KB of spaces beyond them.
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/suppressions",
            new { phone = "919876543210", state = "blocked", reason = "\n  " + new string('r', 500) + new string(' ', 60_000) });

        Assert.Equal(new string('r', 500),
            (await response.ReadJsonAsync(HttpStatusCode.Created)).GetProperty("suppression").GetProperty("reason").GetString());
        var read = await admin.GetAsync($"/admin/v1/businesses/{businessId}/suppressions/919876543210");
        Assert.Equal(new string('r', 500), (await read.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("suppression").GetProperty("reason").GetString());
    }

    [Theory]
    [InlineData("")]
    [InlineData(" \n ")]
    public async Task ABlankReasonIsNoReason(string blank)
    {
        // As a template's blank display_name: a form's empty field is stored as none (null), not as "".
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var added = await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/suppressions", new { phone = "919876543210", state = "blocked", reason = blank });
        var imported = await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/suppressions/import",
            new { suppressions = new[] { new { phone = "919876543211", state = "blocked", reason = blank } } });

        Assert.Equal(JsonValueKind.Null, (await added.ReadJsonAsync(HttpStatusCode.Created)).GetProperty("suppression").GetProperty("reason").ValueKind);
        await imported.ReadJsonAsync(HttpStatusCode.OK);
        var listed = (await ListAsync(admin, businessId, "")).GetProperty("suppressions").EnumerateArray().ToList();
        Assert.Equal(["919876543210", "919876543211"], listed.Select(entry => entry.GetProperty("phone").GetString()).Order()); // the import's too
        Assert.All(listed, entry => Assert.Equal(JsonValueKind.Null, entry.GetProperty("reason").ValueKind));
    }

    [Fact]
    public async Task ANumberAddedAsTheWaIdMetaGivesItStopsSendsToTheNumberAsWrittenBeforeAnyContact()
    {
        // 551187654321 is how Meta names the Brazilian mobile 55 11 98765-4321: an operator copying a STOP from elsewhere
        // gives that form, and the business has neither sent to the number nor heard from it.
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();

        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions",
            new { phone = "551187654321", state = "opted_out", reason = "STOP in the old system" })).EnsureSuccessStatusCode();

        var send = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "5511987654321", template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-12345", "₹1,499" } });
        Assert.Equal("opted_out", (await send.AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED")).GetProperty("suppression_state").GetString());
        (await admin.DeleteAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions/5511987654321")).EnsureSuccessStatusCode();
        await factory.WithDbAsync(async db => Assert.False(await db.Suppressions.AnyAsync(s => s.BusinessId == tenant.BusinessId)));
    }

    [Fact]
    public async Task ANumberAddedAsTheWaIdAfterASendKeepsThePairTheSendGave()
    {
        // The send's answer already paired the number as written with Meta's wa_id: the add (and an add again) keeps that
        // one pair rather than writing a second.
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        var sent = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "5511987654321", template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-12345", "₹1,499" } });
        await sent.ReadJsonAsync(HttpStatusCode.OK);

        var added = await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions",
            new { phone = "551187654321", state = "opted_out", reason = "STOP in the old system" });
        var addedAgain = await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions",
            new { phone = "551187654321", state = "blocked", reason = "Abusive" });

        await added.ReadJsonAsync(HttpStatusCode.Created);
        await addedAgain.ReadJsonAsync(HttpStatusCode.OK);
        await factory.WithDbAsync(async db => Assert.Equal([("5511987654321", "551187654321")],
            await db.RecipientWaIds.Where(r => r.BusinessId == tenant.BusinessId).Select(r => ValueTuple.Create(r.Phone, r.WaId)).ToListAsync()));
        var send = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "5511987654321", template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-12345", "₹1,499" } });
        Assert.Equal("blocked", (await send.AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED")).GetProperty("suppression_state").GetString());
    }

    [Fact]
    public async Task ARefusedChangeLeavesTheSuppressionAsItWas()
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/suppressions",
            new { phone = "919876543210", state = "opted_out", reason = "Asked by phone" })).EnsureSuccessStatusCode();

        var tooLong = await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/suppressions",
            new { phone = "919876543210", state = "blocked", reason = new string('r', 501) });
        var badState = await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/suppressions",
            new { phone = "919876543210", state = "annoyed", reason = "Other" });

        Assert.Equal("reason", (await tooLong.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("field").GetString());
        Assert.Equal("state", (await badState.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("field").GetString());
        var read = (await (await admin.GetAsync($"/admin/v1/businesses/{businessId}/suppressions/919876543210"))
            .ReadJsonAsync(HttpStatusCode.OK)).GetProperty("suppression");
        Assert.Equal("opted_out", read.GetProperty("state").GetString());
        Assert.Equal("Asked by phone", read.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task SuppressionsOfAnUnknownBusinessAreRefusedAndNothingIsStored()
    {
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsJsonAsync("/admin/v1/businesses/313131/suppressions", new { phone = "919876543210", state = "blocked" });

        await response.AssertErrorAsync(HttpStatusCode.NotFound, "BUSINESS_NOT_FOUND");
        await factory.WithDbAsync(async db => Assert.False(await db.Suppressions.AnyAsync(s => s.BusinessId == 313131)));
    }

    [Fact]
    public async Task TheListGoesPageByPageInDigitOrderWithTheBusinesssOwnEntriesOnly()
    {
        var businessId = await factory.CreateBusinessAsync();
        var otherId = await factory.CreateBusinessAsync(name: "Other Stores");
        using var admin = factory.CreateAdminClient();
        string[] phones = ["919876500005", "919876500001", "447700900123", "919876500003", "14155550100"];
        foreach (var phone in phones)
        {
            await AddAsync(admin, businessId, phone, "blocked");
        }

        await AddAsync(admin, otherId, "919876500002", "blocked");

        var listed = new List<string>();
        var pages = 0;
        string? after = null;
        do
        {
            var page = await ListAsync(admin, businessId, $"limit=2{(after is null ? "" : $"&after={after}")}");
            var entries = page.GetProperty("suppressions").EnumerateArray().Select(e => e.GetProperty("phone").GetString()!).ToList();
            Assert.InRange(entries.Count, 1, 2);
            listed.AddRange(entries);
            after = page.GetProperty("next_after").GetString();
            Assert.Equal(after is null ? null : entries[^1], after);
            pages++;
        }
        while (after is not null);

        Assert.Equal(phones.Order(StringComparer.Ordinal), listed);
        Assert.Equal(3, pages);
    }

    [Fact]
    public async Task AnEntryAddedBetweenPagesNeitherRepeatsNorPushesOutTheOthers()
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        foreach (var phone in new[] { "919876500010", "919876500020", "919876500030", "919876500040" })
        {
            await AddAsync(admin, businessId, phone, "opted_out");
        }

        var first = await ListAsync(admin, businessId, "limit=2");
        await AddAsync(admin, businessId, "919876500005", "opted_out"); // sorts before the first page's end
        var second = await ListAsync(admin, businessId, $"limit=2&after={first.GetProperty("next_after").GetString()}");

        Assert.Equal(["919876500030", "919876500040"],
            second.GetProperty("suppressions").EnumerateArray().Select(e => e.GetProperty("phone").GetString()));
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next_after").ValueKind);
    }

    [Fact]
    public async Task TheListShowsEachEntryAsStoredAndFiltersByState()
    {
        var businessId = await factory.CreateBusinessAsync();
        await factory.ConnectWhatsAppAsync(businessId);
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/suppressions",
            new { phone = "919876500001", state = "blocked", reason = "Abusive" })).EnsureSuccessStatusCode();
        await AddAsync(admin, businessId, "919876500002", "undeliverable");
        await factory.CustomerWritesAsync(businessId, "919876500003", "STOP");

        var all = (await ListAsync(admin, businessId, "")).GetProperty("suppressions").EnumerateArray().ToList();
        // Read as an add reads a state: any case, without the padding a copied value brings.
        var optedOut = (await ListAsync(admin, businessId, "state=%20Opted_Out")).GetProperty("suppressions").EnumerateArray().ToList();

        Assert.Equal([("919876500001", "blocked", "Abusive"), ("919876500002", "undeliverable", null), ("919876500003", "opted_out", "Customer sent STOP")],
            all.Select(e => (e.GetProperty("phone").GetString(), e.GetProperty("state").GetString(), e.GetProperty("reason").GetString())));
        Assert.Equal(factory.Clock.GetUtcNow().UtcDateTime, all[0].GetProperty("created_at").GetDateTime());
        Assert.Equal("919876500003", Assert.Single(optedOut).GetProperty("phone").GetString());
    }

    [Fact]
    public async Task TheListHasAPageOfAHundredUnlessToldAndAtMostAThousand()
    {
        var businessId = await factory.CreateBusinessAsync();
        await factory.WithDbAsync(async db =>
        {
            db.Suppressions.AddRange(Enumerable.Range(0, 1001).Select(n => new Suppression
            {
                BusinessId = businessId, Phone = $"91980000{n:D4}", State = SuppressionStates.Blocked, CreatedAt = factory.Clock.GetUtcNow().UtcDateTime,
            }));
            await db.SaveChangesAsync();
        });
        using var admin = factory.CreateAdminClient();

        var byDefault = await ListAsync(admin, businessId, "");
        var most = await ListAsync(admin, businessId, "limit=1000");

        Assert.Equal((100, "919800000099"), (byDefault.GetProperty("suppressions").GetArrayLength(), byDefault.GetProperty("next_after").GetString()));
        Assert.Equal((1000, "919800000999"), (most.GetProperty("suppressions").GetArrayLength(), most.GetProperty("next_after").GetString()));
    }

    [Theory]
    [InlineData("state=annoyed", "state")]
    [InlineData("state=blocked&state=opted_out", "state")]
    [InlineData("after=abc", "after")]
    [InlineData("after=", "after")]
    [InlineData("after=%2B919876543210", "after")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1001", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("limit=-5", "limit")]
    [InlineData("limit=%2010", "limit")]
    [InlineData("limit=5&limit=6", "limit")]
    public async Task ListQueriesThatCannotBeReadAreRefusedNamingTheirParameter(string query, string field)
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var response = await admin.GetAsync($"/admin/v1/businesses/{businessId}/suppressions?{query}");

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal(field, json.GetProperty("field").GetString());
    }

    [Theory]
    [InlineData("after=91&after=44", "after")]
    [InlineData("state=blocked&state=opted_out", "state")] // not "must be one of": each value is one
    [InlineData("limit=5&limit=6", "limit")]
    public async Task AListParameterGivenTwiceIsRefusedAsSuchEvenWhenBothValuesAreGood(string query, string field)
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var response = await admin.GetAsync($"/admin/v1/businesses/{businessId}/suppressions?{query}");

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal(field, json.GetProperty("field").GetString());
        Assert.Equal($"{field} is given more than once; give it once.", json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task AnAfterOf32DigitsIsReadAndALongerOneRefused()
    {
        // 32 is beyond any number stored, so no next_after is refused; past it the value is no number's.
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        await AddAsync(admin, businessId, "919876500001", "blocked");

        var longest = await ListAsync(admin, businessId, $"after={new string('1', 32)}");
        var tooLong = await admin.GetAsync($"/admin/v1/businesses/{businessId}/suppressions?after={new string('1', 33)}");

        Assert.Equal("919876500001", Assert.Single(longest.GetProperty("suppressions").EnumerateArray()).GetProperty("phone").GetString());
        Assert.Equal("after", (await tooLong.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("field").GetString());
    }

    [Theory]
    [InlineData("status=blocked", "status")] // state under another name: every entry would come back as if blocked
    [InlineData("State=blocked&filter=opted_out", "filter")]
    [InlineData("page=2", "page")] // a page number or offset would answer the first page again, for ever
    [InlineData("offset=100&limit=50", "offset")]
    [InlineData("cursor=919876500001", "cursor")]
    [InlineData("next_after=919876500001", "next_after")]
    [InlineData("per_page=10", "per_page")]
    public async Task AListParameterThisListDoesNotReadIsRefusedNamingTheOnesItReads(string query, string field)
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        await AddAsync(admin, businessId, "919876500001", "opted_out");
        await AddAsync(admin, businessId, "919876500002", "blocked");

        var response = await admin.GetAsync($"/admin/v1/businesses/{businessId}/suppressions?{query}");

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal(field, json.GetProperty("field").GetString());
        Assert.Equal($"The suppression list does not read {field}=: it reads state= (opted_out, blocked or undeliverable), "
            + "after= (the next_after of the page before) and limit= (1 to 1000).", json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task ABrowserLibrarysCacheBusterBesideTheFilterIsNoUnreadParameter()
    {
        // jQuery's cache: false adds _=<time> to every GET a dashboard makes.
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        await AddAsync(admin, businessId, "919876500001", "opted_out");
        await AddAsync(admin, businessId, "919876500002", "blocked");

        var response = await admin.GetAsync($"/admin/v1/businesses/{businessId}/suppressions?state=blocked&_=1764972000000");

        var listed = (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("suppressions");
        Assert.Equal("919876500002", Assert.Single(listed.EnumerateArray()).GetProperty("phone").GetString());
    }

    [Fact]
    public async Task ReadingOrRemovingANumberOfAnUnknownBusinessIsRefusedAsTheBusinesss()
    {
        // Not SUPPRESSION_NOT_FOUND: an operator with a wrong business id would read "not suppressed" for a number that is.
        using var admin = factory.CreateAdminClient();

        var read = await admin.GetAsync("/admin/v1/businesses/313131/suppressions/919876543210");
        var removed = await admin.DeleteAsync("/admin/v1/businesses/313131/suppressions/919876543210");

        await read.AssertErrorAsync(HttpStatusCode.NotFound, "BUSINESS_NOT_FOUND");
        await removed.AssertErrorAsync(HttpStatusCode.NotFound, "BUSINESS_NOT_FOUND");
    }

    [Fact]
    public async Task RemovingANumberThatCannotBeReadIsRefusedNamingIt()
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var response = await admin.DeleteAsync($"/admin/v1/businesses/{businessId}/suppressions/12ab");

        Assert.Equal("phone", (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "INVALID_PHONE")).GetProperty("field").GetString());
    }

    [Fact]
    public async Task TheListOfAnUnknownBusinessIsRefused()
    {
        using var admin = factory.CreateAdminClient();

        var response = await admin.GetAsync("/admin/v1/businesses/313131/suppressions");

        await response.AssertErrorAsync(HttpStatusCode.NotFound, "BUSINESS_NOT_FOUND");
    }

    private static async Task AddAsync(HttpClient admin, long businessId, string phone, string state) =>
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/suppressions", new { phone, state })).EnsureSuccessStatusCode();

    private static async Task<JsonElement> ListAsync(HttpClient admin, long businessId, string query) =>
        await (await admin.GetAsync($"/admin/v1/businesses/{businessId}/suppressions?{query}")).ReadJsonAsync(HttpStatusCode.OK);
}
