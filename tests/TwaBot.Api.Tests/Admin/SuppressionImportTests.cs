using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Admin;

/// <summary>POST /admin/v1/businesses/{id}/suppressions/import: a list brought from elsewhere, stored whole or not at all.</summary>
public class SuppressionImportTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task AnImportAddsNewNumbersAndUpdatesListedOnesAsAnAddWould()
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync(Suppressions(businessId), new { phone = "919876500001", state = "opted_out", reason = "Old CRM" }))
            .EnsureSuccessStatusCode();
        var listedSince = await CreatedAtAsync(businessId, "919876500001");
        factory.Clock.Advance(TimeSpan.FromMinutes(5));

        var response = await admin.PostAsJsonAsync(Import(businessId), new
        {
            suppressions = new object[]
            {
                new { phone = "+91 98765 00001", state = "Blocked", reason = "Abusive" },
                new { phone = "9876500002", state = "opted_out" },
                new { phone = "919876500003", state = "UNDELIVERABLE", reason = "Bounced in the old system" },
            },
        });

        var json = await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.True(json.GetProperty("success").GetBoolean());
        Assert.Equal((2, 1), (json.GetProperty("added").GetInt32(), json.GetProperty("updated").GetInt32()));
        await factory.WithDbAsync(async db =>
        {
            var rows = await db.Suppressions.Where(s => s.BusinessId == businessId).OrderBy(s => s.Phone)
                .Select(s => new { s.Phone, s.State, s.Reason, s.CreatedAt }).ToListAsync();
            Assert.Equal(
                [
                    ("919876500001", "blocked", (string?)"Abusive", listedSince),
                    ("919876500002", "opted_out", null, factory.Clock.GetUtcNow().UtcDateTime),
                    ("919876500003", "undeliverable", "Bounced in the old system", factory.Clock.GetUtcNow().UtcDateTime),
                ],
                rows.Select(r => (r.Phone, r.State, r.Reason, r.CreatedAt)));
        });
    }

    [Fact]
    public async Task SendsToImportedNumbersAreRefusedAndOthersStillGo()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();

        (await admin.PostAsJsonAsync(Import(tenant.BusinessId), new
        {
            suppressions = new[] { new { phone = "919876500011", state = "opted_out" }, new { phone = "919876500012", state = "blocked" } },
        })).EnsureSuccessStatusCode();

        var refused = await (await SendAsync(tenant, "919876500012")).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
        Assert.Equal("blocked", refused.GetProperty("suppression_state").GetString());
        await (await SendAsync(tenant, "919876500011")).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
        (await SendAsync(tenant, "919876500013")).EnsureSuccessStatusCode();
    }

    public static TheoryData<string, string, string, string> RefusedLists => new()
    {
        // body, error code, field, a part of the error's text
        { """{"suppressions":[{"phone":"919876500021","state":"opted_out"},{"phone":"12ab","state":"opted_out"}]}""", "INVALID_PHONE", "suppressions[1].phone", "'12ab'" },
        { """{"suppressions":[{"phone":"919876500021","state":"opted_out"},{"state":"opted_out"}]}""", "VALIDATION_FAILED", "suppressions[1].phone", "suppressions[1].phone is required" },
        { """{"suppressions":[{"phone":"919876500021","state":"annoyed"}]}""", "VALIDATION_FAILED", "suppressions[0].state", "suppressions[0].state must be one of" },
        { $$"""{"suppressions":[{"phone":"919876500021","state":"blocked","reason":"{{new string('r', 501)}}"}]}""", "VALIDATION_FAILED", "suppressions[0].reason", "at most 500 characters" },
        { """{"suppressions":[{"phone":"919876500021","state":"opted_out"},null]}""", "VALIDATION_FAILED", "suppressions[1]", "not null" },
        { """{"suppressions":[{"phone":"919876500021","state":"opted_out","colour":"red"}]}""", "VALIDATION_FAILED", "suppressions[0].colour", "not allowed" },
        { """{"suppressions":[{"phone":919876500021,"state":"opted_out"}]}""", "VALIDATION_FAILED", "suppressions[0].phone", "must be a string" },
        // One number in two forms: which state would win is left to no one.
        { """{"suppressions":[{"phone":"919876500021","state":"opted_out"},{"phone":"919876500022","state":"blocked"},{"phone":"+91 98765 00021","state":"blocked"}]}""", "VALIDATION_FAILED", "suppressions[2].phone", "as suppressions[0].phone is" },
        { """{"suppressions":[]}""", "VALIDATION_FAILED", "suppressions", "1 to 1000 entries" },
        { """{"suppressions":null}""", "VALIDATION_FAILED", "suppressions", "1 to 1000 entries" },
        { """{}""", "VALIDATION_FAILED", "suppressions", "1 to 1000 entries" },
        { """{"suppressions":{"phone":"919876500021","state":"opted_out"}}""", "VALIDATION_FAILED", "suppressions", "suppressions" },
    };

    [Theory]
    [MemberData(nameof(RefusedLists))]
    public async Task AListWithOneEntryRefusedIsRefusedNamingItAndNothingIsStoredOrChanged(string body, string code, string field, string says)
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync(Suppressions(businessId), new { phone = "919876500022", state = "opted_out", reason = "Kept" }))
            .EnsureSuccessStatusCode();

        var response = await admin.PostAsync(Import(businessId), new StringContent(body, Encoding.UTF8, "application/json"));

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, code);
        Assert.Equal(field, json.GetProperty("field").GetString());
        Assert.Contains(says, json.GetProperty("error").GetString(), StringComparison.Ordinal);
        await factory.WithDbAsync(async db =>
        {
            var row = Assert.Single(await db.Suppressions.Where(s => s.BusinessId == businessId).ToListAsync());
            Assert.Equal(("919876500022", "opted_out", "Kept"), (row.Phone, row.State, row.Reason));
        });
    }

    [Fact]
    public async Task AThousandEntriesWithTheirReasonsGoInOneImportBeyondTheUsual64KBodyAndOneMoreIsRefused()
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        var reason = "Opted out in the previous provider's system before the move, 2026 " + new string('.', 40);

        var thousand = await admin.PostAsync(Import(businessId), JsonBody(ImportBody(1000, reason)));
        var tooMany = await admin.PostAsync(Import(businessId), JsonBody(ImportBody(1001, reason)));

        var json = await thousand.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal((1000, 0), (json.GetProperty("added").GetInt32(), json.GetProperty("updated").GetInt32()));
        Assert.Equal("suppressions", (await tooMany.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("field").GetString());
        await factory.WithDbAsync(async db => Assert.Equal(1000, await db.Suppressions.CountAsync(s => s.BusinessId == businessId && s.Reason == reason)));
    }

    [Fact]
    public async Task AnImportOverFourMegabytesIsRefusedWith413AndOtherAdminBodiesKeepTheir64K()
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var tooLarge = await admin.PostAsync(Import(businessId), JsonBody(ImportBody(1000, new string('r', 4300))));
        var add = await admin.PostAsync(Suppressions(businessId),
            JsonBody($$"""{"phone":"919876500031","state":"blocked","reason":"{{new string('r', 70 * 1024)}}"}"""));

        Assert.Contains("The limit is 4194304 bytes.",
            (await tooLarge.AssertErrorAsync(HttpStatusCode.RequestEntityTooLarge, "PAYLOAD_TOO_LARGE")).GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("The limit is 65536 bytes.",
            (await add.AssertErrorAsync(HttpStatusCode.RequestEntityTooLarge, "PAYLOAD_TOO_LARGE")).GetProperty("error").GetString(), StringComparison.Ordinal);
        await factory.WithDbAsync(async db => Assert.False(await db.Suppressions.AnyAsync(s => s.BusinessId == businessId)));
    }

    [Fact]
    public async Task AnImportOfExactlyFourMegabytesIsRead()
    {
        // The limit is the largest body taken, not the smallest refused: padded (JSON allows trailing spaces) to the byte.
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        var body = ImportBody(1000, "Opted out in the previous provider's system before the move, 2026");
        body += new string(' ', (int)TwaBot.Api.Errors.RequestBodyLimits.SuppressionImportBytes - Encoding.UTF8.GetByteCount(body));

        var response = await admin.PostAsync(Import(businessId), JsonBody(body));

        Assert.Equal(1000, (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("added").GetInt32());
    }

    /// <summary>
    /// The path of the import is also the path of GET and DELETE /suppressions/{phone} (phone "import"): those routes read no
    /// body, so a large one is not what their answer is about (no 413, and not the import's 4 MB either): "import" is no phone.
    /// </summary>
    [Theory]
    [InlineData("DELETE")]
    [InlineData("GET")]
    public async Task TheGetAndDeleteOfTheImportPathAreAnsweredForThePhoneNotTheBodysSize(string method)
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), Import(businessId)) { Content = JsonBody(new string(' ', 100 * 1024)) };

        var response = await admin.SendAsync(request);

        await response.AssertErrorAsync(HttpStatusCode.BadRequest, "INVALID_PHONE");
    }

    /// <summary>Routing reads the business id as a long ("+7", " 7" and "007" are business 7): each form gets the import's 4 MB.</summary>
    [Theory]
    [InlineData("+")]
    [InlineData("%20")]
    [InlineData("00")]
    public async Task AnImportToTheBusinessIdAsRoutingReadsItTakesTheLargerLimitToo(string before)
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        var body = ImportBody(1000, "Opted out in the previous provider's system before the move, 2026");
        Assert.InRange(Encoding.UTF8.GetByteCount(body), 64 * 1024 + 1, TwaBot.Api.Errors.RequestBodyLimits.SuppressionImportBytes);

        var response = await admin.PostAsync($"/admin/v1/businesses/{before}{businessId}/suppressions/import", JsonBody(body));

        Assert.Equal(1000, (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("added").GetInt32());
        await factory.WithDbAsync(async db => Assert.Equal(1000, await db.Suppressions.CountAsync(s => s.BusinessId == businessId)));
    }

    /// <summary>README: a reason over 500 characters is refused; one padded beyond them in a megabyte is stored as its 500.</summary>
    [Fact]
    public async Task AReasonPaddedBeyond500CharactersIsStoredWithoutThePadding()
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        var reason = new string('r', 500);
        var padded = string.Concat(Enumerable.Repeat(@"\n", 100_000)) + "   " + reason + new string(' ', 600_000);

        var response = await admin.PostAsync(Import(businessId),
            JsonBody($$"""{"suppressions":[{"phone":"919876500061","state":"blocked","reason":"{{padded}}"}]}"""));

        Assert.Equal(1, (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("added").GetInt32());
        Assert.Equal([(("919876500061", "blocked", reason))], await ListAsync(admin, businessId));
    }

    /// <summary>operations.md's move of a number to another business: the old list read page by page, each page imported.</summary>
    [Fact]
    public async Task AListReadPageByPageAndImportedGivesTheOtherBusinessTheSameList()
    {
        var from = await factory.CreateSendingTenantAsync();
        var to = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        await factory.CustomerWritesAsync(from.BusinessId, "919876500051", "STOP");
        (await admin.PostAsJsonAsync(Import(from.BusinessId), new
        {
            suppressions = new object[]
            {
                new { phone = "919876500052", state = "blocked", reason = "Abusive" },
                new { phone = "919876500053", state = "undeliverable" },
                new { phone = "919876500054", state = "opted_out", reason = "Line one\nline two" },
            },
        })).EnsureSuccessStatusCode();

        string? after = null;
        do
        {
            var page = await (await admin.GetAsync($"{Suppressions(from.BusinessId)}?limit=2{(after is null ? "" : $"&after={after}")}"))
                .ReadJsonAsync(HttpStatusCode.OK);
            var entries = page.GetProperty("suppressions").EnumerateArray()
                .Select(e => new { phone = e.GetProperty("phone").GetString(), state = e.GetProperty("state").GetString(), reason = e.GetProperty("reason").GetString() });
            (await admin.PostAsJsonAsync(Import(to), new { suppressions = entries })).EnsureSuccessStatusCode();
            after = page.GetProperty("next_after").GetString();
        }
        while (after is not null);

        Assert.Equal(await ListAsync(admin, from.BusinessId), await ListAsync(admin, to));
        Assert.Equal(4, (await ListAsync(admin, to)).Count);
    }

    /// <summary>
    /// A Brazilian, Mexican or Argentine customer's STOP is listed under the wa_id Meta gave their number (WaIdForms). The
    /// business it moves to has never sent to the number, so the entry alone would not stop its sends to the number as
    /// written: the pair is remembered from the wa_id, as it is when such a customer writes.
    /// </summary>
    [Theory]
    [InlineData("5511987654321", "551187654321")]
    [InlineData("525512345678", "5215512345678")]
    [InlineData("541123456789", "5491123456789")]
    public async Task AStopUnderAWaIdCarriedToAnotherBusinessStopsItsSendsToTheNumberAsWritten(string number, string waId)
    {
        var from = await factory.CreateSendingTenantAsync();
        var to = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        await factory.CustomerWritesAsync(from.BusinessId, waId, "STOP");
        await (await SendAsync(from, number)).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");

        var listed = await (await admin.GetAsync($"{Suppressions(from.BusinessId)}?limit=1000")).ReadJsonAsync(HttpStatusCode.OK);
        var entries = listed.GetProperty("suppressions").EnumerateArray()
            .Select(e => new { phone = e.GetProperty("phone").GetString(), state = e.GetProperty("state").GetString(), reason = e.GetProperty("reason").GetString() });
        (await admin.PostAsJsonAsync(Import(to.BusinessId), new { suppressions = entries })).EnsureSuccessStatusCode();

        Assert.Equal(waId, Assert.Single(await ListAsync(admin, to.BusinessId)).Item1);
        var refused = await (await SendAsync(to, number)).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
        Assert.Equal("opted_out", refused.GetProperty("suppression_state").GetString());
        Assert.Equal(waId, (await (await admin.GetAsync($"{Suppressions(to.BusinessId)}/{number}")).ReadJsonAsync(HttpStatusCode.OK))
            .GetProperty("suppression").GetProperty("phone").GetString());
        // Imported again where the customer's own message gave the pair: it is kept, not written twice.
        var again = await (await admin.PostAsJsonAsync(Import(from.BusinessId), new { suppressions = entries })).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal((0, 1), (again.GetProperty("added").GetInt32(), again.GetProperty("updated").GetInt32()));
    }

    /// <summary>
    /// operations.md's move reads pages of 1000: the longest reasons in another script fit one import even written as
    /// .NET's serializer writes them by default, every character beyond ASCII escaped (six bytes where UTF-8 takes three).
    /// </summary>
    [Fact]
    public async Task AThousandEntriesWithTheLongestReasonsInAnotherScriptFitOneImportEvenEscaped()
    {
        var from = await factory.CreateBusinessAsync();
        var to = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        var reason = string.Concat(Enumerable.Repeat("ग्राहक ने मना किया ", 30))[..500];
        var entries = Enumerable.Range(0, 1000).Select(i => new { phone = $"9198764{i:D5}", state = "opted_out", reason }).ToList();
        var escaped = JsonSerializer.Serialize(new { suppressions = entries });
        Assert.InRange(Encoding.UTF8.GetByteCount(escaped), 2 * 1024 * 1024, TwaBot.Api.Errors.RequestBodyLimits.SuppressionImportBytes);

        Assert.Equal(1000, (await (await admin.PostAsync(Import(from), JsonBody(escaped))).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("added").GetInt32());
        var page = await (await admin.GetAsync($"{Suppressions(from)}?limit=1000")).ReadJsonAsync(HttpStatusCode.OK);
        var body = JsonSerializer.Serialize(new
        {
            suppressions = page.GetProperty("suppressions").EnumerateArray()
                .Select(e => new { phone = e.GetProperty("phone").GetString(), state = e.GetProperty("state").GetString(), reason = e.GetProperty("reason").GetString() }),
        });

        Assert.Equal(1000, (await (await admin.PostAsync(Import(to), JsonBody(body))).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("added").GetInt32());
        Assert.Equal(await ListAsync(admin, from), await ListAsync(admin, to));
    }

    [Fact]
    public async Task AnImportForAnUnknownBusinessIsRefusedAndNothingIsStored()
    {
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsJsonAsync(Import(999_999), new { suppressions = new[] { new { phone = "919876599041", state = "blocked" } } });

        await response.AssertErrorAsync(HttpStatusCode.NotFound, "BUSINESS_NOT_FOUND");
        await factory.WithDbAsync(async db => Assert.False(await db.Suppressions.AnyAsync(s => s.Phone == "919876599041")));
    }

    private static async Task<List<(string?, string?, string?)>> ListAsync(HttpClient admin, long businessId) =>
        [.. (await (await admin.GetAsync($"{Suppressions(businessId)}?limit=1000")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("suppressions")
            .EnumerateArray().Select(e => (e.GetProperty("phone").GetString(), e.GetProperty("state").GetString(), e.GetProperty("reason").GetString()))];

    /// <summary>Non-ASCII text as UTF-8, not as \u escapes.</summary>
    private static string Suppressions(long businessId) => $"/admin/v1/businesses/{businessId}/suppressions";

    private static string Import(long businessId) => $"/admin/v1/businesses/{businessId}/suppressions/import";

    private static string ImportBody(int entries, string reason) => JsonSerializer.Serialize(new
    {
        suppressions = Enumerable.Range(0, entries).Select(i => new { phone = $"9198765{i:D5}", state = "opted_out", reason }),
    });

    private static StringContent JsonBody(string json) => new(json, Encoding.UTF8, "application/json");

    private static Task<HttpResponseMessage> SendAsync(SendingTenant tenant, string phone) => tenant.Client.PostAsJsonAsync("/api/v1/send-template",
        new { phone, template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-12345", "₹1,499" } });

    private async Task<DateTime> CreatedAtAsync(long businessId, string phone)
    {
        var createdAt = default(DateTime);
        await factory.WithDbAsync(async db =>
            createdAt = (await db.Suppressions.SingleAsync(s => s.BusinessId == businessId && s.Phone == phone)).CreatedAt);
        return createdAt;
    }
}
