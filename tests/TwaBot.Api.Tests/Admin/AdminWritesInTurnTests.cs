using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Data;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Admin;

/// <summary>
/// Admin writes read, check and write in turn with the database's other writers: many at once end as one
/// of them, never a mix of several and never a 500.
/// </summary>
public class AdminWritesInTurnTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task AnAdminWriteWaitsForTheDatabasesWriteGate()
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        var gate = factory.Services.GetRequiredService<SqliteWriteGate>();

        Task<HttpResponseMessage> patch;
        using (await gate.EnterAsync(CancellationToken.None))
        {
            patch = admin.PatchAsJsonAsync($"/admin/v1/businesses/{businessId}", new { name = "Renamed" });
            // Reads do not wait (a read that did would time out here, not hang the test).
            var read = await admin.GetAsync($"/admin/v1/businesses/{businessId}").WaitAsync(TimeSpan.FromSeconds(10));
            var head = await admin.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/admin/v1/businesses/{businessId}"))
                .WaitAsync(TimeSpan.FromSeconds(10));

            read.EnsureSuccessStatusCode();
            head.EnsureSuccessStatusCode();
            Assert.NotSame(patch, await Task.WhenAny(patch, Task.Delay(300))); // not answered in 300 ms: waiting for the gate
        }

        var renamed = (await (await patch).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("business");
        Assert.Equal("Renamed", renamed.GetProperty("name").GetString());
    }

    [Fact]
    public async Task TemplateCallsWriteTheirRowsInTurnWithTheOtherWriters()
    {
        // Outside the gate, a template's write met the sends' commits in SQLite's busy loop (150 ms a try, both sides).
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();

        var create = await AnsweredOnlyOnceTheGateIsFreeAsync(
            () => admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", TemplatesAdminTests.ShippingUpdate),
            // Its pending row, written before Meta is asked, too: not only Meta's answer written after.
            whileWaiting: () => factory.WithDbAsync(async db => Assert.False(await db.Templates.AnyAsync(t => t.BusinessId == tenant.BusinessId && t.Name == "shipping_update"))));
        await create.ReadJsonAsync(HttpStatusCode.Created);
        var sync = await AnsweredOnlyOnceTheGateIsFreeAsync(() => admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null));
        await sync.ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ApiKeyChangesWriteInTurnWithTheOtherWriters()
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var created = await AnsweredOnlyOnceTheGateIsFreeAsync(
            () => admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/api-keys", new { name = "Orders", permissions = new[] { "*" } }));
        var keyId = (await created.ReadJsonAsync(HttpStatusCode.Created)).GetProperty("api_key").GetProperty("id").GetInt64();
        var changed = await AnsweredOnlyOnceTheGateIsFreeAsync(() => admin.PatchAsJsonAsync($"/admin/v1/api-keys/{keyId}", new { name = "Renamed" }));
        await changed.ReadJsonAsync(HttpStatusCode.OK);
        var revoked = await AnsweredOnlyOnceTheGateIsFreeAsync(() => admin.DeleteAsync($"/admin/v1/api-keys/{keyId}"));
        await revoked.ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task AWhatsAppDisconnectWritesInTurnWithTheOtherWriters()
    {
        // Mapped outside the admin writes' filter (a connect asks Meta first), it takes the gate itself to write.
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();

        var disconnect = await AnsweredOnlyOnceTheGateIsFreeAsync(() => admin.DeleteAsync($"/admin/v1/businesses/{tenant.BusinessId}/whatsapp"));

        var business = (await disconnect.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("business");
        Assert.False(business.GetProperty("whatsapp").GetProperty("connected").GetBoolean());
    }

    [Fact]
    public async Task PatchesOfOneBusinessAtOnceEndAsOneOfThem()
    {
        string[] plans = ["Starter", "Growth", "Pro"];
        string[] zones = ["UTC", "Asia/Kolkata", "America/New_York", "Europe/Berlin", "Asia/Tokyo"];
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        for (var round = 0; round < 3; round++)
        {
            var patches = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => admin.PatchAsJsonAsync(
                $"/admin/v1/businesses/{businessId}", new { name = $"name-{i}", plan = plans[i % 3], time_zone = zones[i % 5] })));

            Assert.All(patches, patch => Assert.Equal(HttpStatusCode.OK, patch.StatusCode));
            await factory.WithDbAsync(async db =>
            {
                var business = await db.Businesses.AsNoTracking().SingleAsync(b => b.Id == businessId);
                var i = int.Parse(business.Name["name-".Length..], System.Globalization.CultureInfo.InvariantCulture);
                Assert.Equal((plans[i % 3], zones[i % 5]), (business.Plan.ToString(), business.TimeZone));
            });
        }
    }

    [Fact]
    public async Task SuppressionsOfOnePhoneAtOnceAreOneRowAndNoError()
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var adds = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => admin.PostAsJsonAsync(
            $"/admin/v1/businesses/{businessId}/suppressions", new { phone = "919877100001", state = i % 2 == 0 ? "opted_out" : "blocked" })));

        Assert.Equal(1, adds.Count(add => add.StatusCode == HttpStatusCode.Created));
        Assert.All(adds, add => Assert.Contains(add.StatusCode, new[] { HttpStatusCode.Created, HttpStatusCode.OK }));
        await factory.WithDbAsync(async db => Assert.Equal(1, await db.Suppressions.CountAsync(s => s.BusinessId == businessId)));
    }

    [Fact]
    public async Task ImportsOfOverlappingListsDeletesAndStopsAtOnceEndAsOneOrderOfThemAndNoError()
    {
        // Ten imports share 50 numbers (each also has 10 of its own); five of the shared are deleted and three get a
        // customer's STOP meanwhile. Each import is whole when the next starts, so the shared numbers carry one import's reason.
        var businessId = (await factory.CreateSendingTenantAsync()).BusinessId;
        using var admin = factory.CreateAdminClient();
        static string Shared(int n) => $"9198772{n:D5}";

        var imports = Enumerable.Range(0, 10).Select(i => admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/suppressions/import", new
        {
            suppressions = Enumerable.Range(0, 50).Select(Shared).Concat(Enumerable.Range(0, 10).Select(n => $"9198773{i:D2}{n:D3}"))
                .Select(phone => new { phone, state = "opted_out", reason = $"import {i}" }),
        })).ToList();
        var deletes = Enumerable.Range(0, 5).Select(n => admin.DeleteAsync($"/admin/v1/businesses/{businessId}/suppressions/{Shared(n)}")).ToList();
        var stops = Enumerable.Range(45, 3).Select(n => factory.CustomerWritesAsync(businessId, Shared(n), "STOP")).ToList();
        await Task.WhenAll(stops);

        foreach (var import in await Task.WhenAll(imports))
        {
            var json = await import.ReadJsonAsync(HttpStatusCode.OK);
            Assert.Equal(60, json.GetProperty("added").GetInt32() + json.GetProperty("updated").GetInt32());
        }

        Assert.All(await Task.WhenAll(deletes), delete => Assert.Contains(delete.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.NotFound }));
        await factory.WithDbAsync(async db =>
        {
            var rows = await db.Suppressions.AsNoTracking().Where(s => s.BusinessId == businessId).ToDictionaryAsync(s => s.Phone);
            Assert.Equal(100, rows.Keys.Count(phone => phone.StartsWith("9198773", StringComparison.Ordinal)));
            var last = Assert.Single(Enumerable.Range(5, 40).Select(n => rows[Shared(n)].Reason).Distinct());
            Assert.All(Enumerable.Range(5, 45).Select(n => rows[Shared(n)]), row =>
            {
                Assert.Equal("opted_out", row.State);
                Assert.Contains(row.Reason, new[] { last, "Customer sent STOP" });
            });
        });
    }

    [Fact]
    public async Task ConnectsToOneNumberAtOnceGiveItToOneAndLeaveTheOthersAsTheyWere()
    {
        var businesses = new List<long>();
        using var admin = factory.CreateAdminClient();
        for (var i = 0; i < 5; i++)
        {
            var id = await factory.CreateBusinessAsync();
            businesses.Add(id);
            (await admin.PutAsJsonAsync($"/admin/v1/businesses/{id}/whatsapp",
                new { phone_number_id = $"81234567{id:D7}", waba_id = "1", access_token = "EAAtok" })).EnsureSuccessStatusCode();
        }

        var connects = await Task.WhenAll(businesses.Select(id => admin.PutAsJsonAsync($"/admin/v1/businesses/{id}/whatsapp",
            new { phone_number_id = $"6123456{businesses[0]:D7}", waba_id = "1", access_token = "EAAtok" })));

        Assert.Equal(1, connects.Count(connect => connect.StatusCode == HttpStatusCode.OK));
        Assert.All(connects, connect => Assert.Contains(connect.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.Conflict }));
        await factory.WithDbAsync(async db =>
            Assert.Equal(5, await db.WhatsAppConnections.CountAsync(w => businesses.Contains(w.BusinessId))));
    }

    [Theory]
    [InlineData("/suppressions", """{"phone":"+919876543210","state":"blocked","phone":"+447911123456"}""", "POST")]
    [InlineData("", """{"name":"a","name":"b"}""", "PATCH")]
    public async Task AFieldGivenTwiceIsRefused(string path, string body, string method)
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), $"/admin/v1/businesses/{businessId}{path}")
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
        };

        var response = await admin.SendAsync(request);

        var error = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Contains("more than once", error.GetProperty("error").GetString(), StringComparison.Ordinal);
        await factory.WithDbAsync(async db => Assert.False(await db.Suppressions.AnyAsync(s => s.BusinessId == businessId)));
    }

    [Theory]
    [InlineData("/suppressions", """{"phone":"9876543210","state":"blocked","reason":"a\u0000b"}""", "reason")]
    [InlineData("/templates", """{"name":"nul_body","language":"en","category":"UTILITY","body":"a\u0000b"}""", "body")]
    [InlineData("/templates", """{"name":"esc_footer","language":"en","category":"UTILITY","body":"Hi","footer_text":"a\u001bb"}""", "footer_text")]
    public async Task ControlCharactersAreRefusedNamingTheField(string path, string body, string field)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();

        var response = await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}{path}",
            new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(field, (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("field").GetString());
    }

    [Fact]
    public async Task ReconnectingTheSandboxKeepsItsTokenSoSendsOnTheirWayStillGoThrough()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var tokens = new List<string>();
        using var admin = factory.CreateAdminClient();

        for (var i = 0; i < 2; i++)
        {
            (await admin.PutAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/whatsapp", new { sandbox = true })).EnsureSuccessStatusCode();
            await factory.WithDbAsync(async db =>
                tokens.Add((await db.WhatsAppConnections.AsNoTracking().SingleAsync(w => w.BusinessId == tenant.BusinessId)).ProtectedAccessToken));
        }

        Assert.Equal(tokens[0], tokens[1]);
    }

    /// <summary>
    /// Sends <paramref name="call"/> while the database's write gate is held, checks it is not answered in 300 ms (it waits
    /// for the gate), runs <paramref name="whileWaiting"/> with the gate still held, then frees the gate and returns its answer.
    /// </summary>
    private async Task<HttpResponseMessage> AnsweredOnlyOnceTheGateIsFreeAsync(Func<Task<HttpResponseMessage>> call, Func<Task>? whileWaiting = null)
    {
        Task<HttpResponseMessage> answer;
        using (await factory.Services.GetRequiredService<SqliteWriteGate>().EnterAsync(CancellationToken.None))
        {
            answer = call();
            Assert.NotSame(answer, await Task.WhenAny(answer, Task.Delay(300)));
            if (whileWaiting is not null)
            {
                await whileWaiting();
            }
        }

        return await answer;
    }
}
