using System.Net;
using System.Net.Http.Json;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Admin;

public class WhatsAppAdminTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    private const string Token = "EAAGsecretTokenValue1234567890abcdef";

    [Fact]
    public async Task ConnectingShowsTheConnectionButNeverTheToken()
    {
        var id = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var connect = await admin.PutAsJsonAsync($"/admin/v1/businesses/{id}/whatsapp",
            new { phone_number_id = "106540352242922", waba_id = "102290129340398", access_token = Token, display_phone_number = "15550783881" });
        var connectText = await connect.Content.ReadAsStringAsync();
        var get = await admin.GetAsync($"/admin/v1/businesses/{id}");
        var getText = await get.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, connect.StatusCode);
        var whatsapp = (await get.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("business").GetProperty("whatsapp");
        Assert.True(whatsapp.GetProperty("connected").GetBoolean());
        Assert.Equal("106540352242922", whatsapp.GetProperty("phone_number_id").GetString());
        Assert.Equal("102290129340398", whatsapp.GetProperty("waba_id").GetString());
        Assert.Equal("15550783881", whatsapp.GetProperty("display_phone_number").GetString());
        Assert.DoesNotContain(Token, connectText, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, getText, StringComparison.Ordinal);
        Assert.DoesNotContain("access_token", getText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheTokenAndDisplayNumberAreKeptWithoutTheSpacesAroundThem()
    {
        var id = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var connect = await admin.PutAsJsonAsync($"/admin/v1/businesses/{id}/whatsapp", new
        {
            phone_number_id = "1065403522" + id, waba_id = "102290129340398", access_token = "  " + Token + " ", display_phone_number = " +1 555 078 3881  ",
        });

        var whatsapp = (await connect.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("business").GetProperty("whatsapp");
        Assert.Equal("+1 555 078 3881", whatsapp.GetProperty("display_phone_number").GetString());
        Assert.Equal(Token, await factory.AccessTokenOfAsync(id)); // as Meta issued it: a space would end up in the Authorization header
    }

    [Fact]
    public async Task HealthReportsTheConnection()
    {
        var (businessId, client, _) = await factory.CreateTenantAsync();
        using var admin = factory.CreateAdminClient();
        var before = await (await client.GetAsync("/api/v1/health")).ReadJsonAsync(HttpStatusCode.OK);

        (await admin.PutAsJsonAsync($"/admin/v1/businesses/{businessId}/whatsapp", new { sandbox = true })).EnsureSuccessStatusCode();
        var connected = await (await client.GetAsync("/api/v1/health")).ReadJsonAsync(HttpStatusCode.OK);
        (await admin.DeleteAsync($"/admin/v1/businesses/{businessId}/whatsapp")).EnsureSuccessStatusCode();
        var disconnected = await (await client.GetAsync("/api/v1/health")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.False(before.GetProperty("whatsapp_connected").GetBoolean());
        Assert.True(connected.GetProperty("whatsapp_connected").GetBoolean());
        Assert.False(disconnected.GetProperty("whatsapp_connected").GetBoolean());
    }

    [Fact]
    public async Task ASandboxConnectionGetsMetaLookingIds()
    {
        var id = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var response = await admin.PutAsJsonAsync($"/admin/v1/businesses/{id}/whatsapp", new { sandbox = true });

        var whatsapp = (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("business").GetProperty("whatsapp");
        Assert.True(whatsapp.GetProperty("sandbox").GetBoolean());
        // 15 digits, the first not 0, as Meta's ids are.
        Assert.Matches("^[1-9][0-9]{14}$", whatsapp.GetProperty("phone_number_id").GetString());
        Assert.Matches("^[1-9][0-9]{14}$", whatsapp.GetProperty("waba_id").GetString());
    }

    [Fact]
    public async Task ASandboxConnectionAfterADisconnectIsANewAccountUnlessGivenItsFormerIds()
    {
        // README: as at Meta, the templates belong to the WABA; a new emulated one has none of them.
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        var whatsapp = $"/admin/v1/businesses/{tenant.BusinessId}/whatsapp";
        var former = (await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("business").GetProperty("whatsapp");
        var send = new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-12345", "₹1,499" } };

        (await admin.DeleteAsync(whatsapp)).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync(whatsapp, new { sandbox = true })).EnsureSuccessStatusCode();
        await (await tenant.Client.PostAsJsonAsync("/api/v1/send-template", send)).AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");

        (await admin.DeleteAsync(whatsapp)).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync(whatsapp, new
        {
            sandbox = true, phone_number_id = former.GetProperty("phone_number_id").GetString(), waba_id = former.GetProperty("waba_id").GetString(),
        })).EnsureSuccessStatusCode();
        await (await tenant.Client.PostAsJsonAsync("/api/v1/send-template", send)).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ASandboxConnectionRefusesAnAccessTokenItWouldDrop()
    {
        var id = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var response = await admin.PutAsJsonAsync($"/admin/v1/businesses/{id}/whatsapp",
            new { sandbox = true, phone_number_id = "123456789012345", waba_id = "223456789012345", access_token = "EAAG-live-token" });

        Assert.Equal("access_token", (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("field").GetString());
        var business = await (await admin.GetAsync($"/admin/v1/businesses/{id}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.False(business.GetProperty("business").GetProperty("whatsapp").GetProperty("connected").GetBoolean());
    }

    [Fact]
    public async Task AMetaConnectionToASandboxLeftOnInProductionIsRefusedSayingHowToGoLive()
    {
        // Accepted, it went to the emulator, whose "Object with ID … does not exist" blamed the operator's ids.
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:Sandbox:Enabled"] = "true" }, environment: "Production");
        var id = await server.CreateBusinessAsync();
        using var admin = server.CreateAdminClient();

        var response = await admin.PutAsJsonAsync($"/admin/v1/businesses/{id}/whatsapp",
            new { phone_number_id = "106540352242922", waba_id = "102290129340398", access_token = "EAAG-live-token" });

        var error = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal("sandbox", error.GetProperty("field").GetString());
        Assert.Contains("TwaBot:Sandbox:Enabled=false", error.GetProperty("error").GetString(), StringComparison.Ordinal);
        var business = await (await admin.GetAsync($"/admin/v1/businesses/{id}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.False(business.GetProperty("business").GetProperty("whatsapp").GetProperty("connected").GetBoolean());
        (await admin.PutAsJsonAsync($"/admin/v1/businesses/{id}/whatsapp", new { sandbox = true })).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task ALiveServerRefusesASandboxConnection()
    {
        await using var live = LiveMode.Factory();
        var id = await live.CreateBusinessAsync();
        using var admin = live.CreateAdminClient();

        var response = await admin.PutAsJsonAsync($"/admin/v1/businesses/{id}/whatsapp", new { sandbox = true });

        Assert.Equal("sandbox", (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("field").GetString());
        var business = await (await admin.GetAsync($"/admin/v1/businesses/{id}")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.False(business.GetProperty("business").GetProperty("whatsapp").GetProperty("connected").GetBoolean());
    }

    [Fact]
    public async Task DisconnectingABusinessThatDoesNotExistIs404()
    {
        using var admin = factory.CreateAdminClient();

        var response = await admin.DeleteAsync("/admin/v1/businesses/987654321/whatsapp");

        await response.AssertErrorAsync(HttpStatusCode.NotFound, "BUSINESS_NOT_FOUND");
    }

    [Fact]
    public async Task ASandboxReconnectWithIdsOfItsOwnTakesThem()
    {
        var id = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PutAsJsonAsync($"/admin/v1/businesses/{id}/whatsapp", new { sandbox = true })).EnsureSuccessStatusCode();
        var (phoneNumberId, wabaId) = ("1770000000" + id.ToString("D5", System.Globalization.CultureInfo.InvariantCulture), "1880000000" + id.ToString("D5", System.Globalization.CultureInfo.InvariantCulture));

        var reconnect = await admin.PutAsJsonAsync($"/admin/v1/businesses/{id}/whatsapp", new { sandbox = true, phone_number_id = phoneNumberId, waba_id = wabaId });

        var whatsapp = (await reconnect.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("business").GetProperty("whatsapp");
        Assert.Equal(phoneNumberId, whatsapp.GetProperty("phone_number_id").GetString());
        Assert.Equal(wabaId, whatsapp.GetProperty("waba_id").GetString());
    }

    [Fact]
    public async Task ReconnectingTheSandboxKeepsItsAccountSoItsTemplatesStillSend()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        var before = (await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}")).ReadJsonAsync(HttpStatusCode.OK))
            .GetProperty("business").GetProperty("whatsapp");

        var reconnect = await admin.PutAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/whatsapp", new { sandbox = true });
        var send = await tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "a", "b", "c" } });

        var after = (await reconnect.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("business").GetProperty("whatsapp");
        Assert.Equal(before.GetProperty("waba_id").GetString(), after.GetProperty("waba_id").GetString());
        Assert.Equal(before.GetProperty("phone_number_id").GetString(), after.GetProperty("phone_number_id").GetString());
        Assert.Equal(HttpStatusCode.OK, send.StatusCode);
    }

    [Fact]
    public async Task ReconnectingTheSandboxKeepsItsTokenSoSendsOnTheirWayAreNotRefused()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        var before = await factory.AccessTokenOfAsync(tenant.BusinessId);

        (await admin.PutAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/whatsapp", new { sandbox = true })).EnsureSuccessStatusCode();

        Assert.NotNull(before);
        Assert.Equal(before, await factory.AccessTokenOfAsync(tenant.BusinessId));
    }

    [Fact]
    public async Task ASandboxConnectionShowsTheEmulatorsDisplayNumberUnlessOneIsGiven()
    {
        var plain = await factory.CreateBusinessAsync();
        var named = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var defaulted = await admin.PutAsJsonAsync($"/admin/v1/businesses/{plain}/whatsapp", new { sandbox = true });
        var given = await admin.PutAsJsonAsync($"/admin/v1/businesses/{named}/whatsapp", new { sandbox = true, display_phone_number = " +91 98765 00000 " });
        // A form's empty field is none given, as a template's empty display_name is.
        var blank = await admin.PutAsJsonAsync($"/admin/v1/businesses/{await factory.CreateBusinessAsync()}/whatsapp", new { sandbox = true, display_phone_number = " " });

        Assert.Equal(Api.Businesses.WhatsAppConnection.SandboxDisplayPhoneNumber,
            (await defaulted.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("business").GetProperty("whatsapp").GetProperty("display_phone_number").GetString());
        Assert.Equal(Api.Businesses.WhatsAppConnection.SandboxDisplayPhoneNumber,
            (await blank.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("business").GetProperty("whatsapp").GetProperty("display_phone_number").GetString());
        Assert.Equal("+91 98765 00000",
            (await given.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("business").GetProperty("whatsapp").GetProperty("display_phone_number").GetString());
    }

    [Theory]
    [InlineData("""{"sandbox":true,"waba_id":"http://127.0.0.1:9/stolen?x="}""", "waba_id")]
    [InlineData("""{"sandbox":true,"phone_number_id":"555/../messages"}""", "phone_number_id")]
    public async Task SandboxIdsThatAreGivenMustBeNumericLikeMetas(string body, string field)
    {
        var id = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var response = await admin.PutAsync($"/admin/v1/businesses/{id}/whatsapp", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(field, (await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("field").GetString());
    }

    [Fact]
    public async Task APhoneNumberIdBelongsToOneBusinessOnly()
    {
        var first = await factory.CreateBusinessAsync();
        var second = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        var body = new { phone_number_id = "555000111222333", waba_id = "1", access_token = "token-one" };
        (await admin.PutAsJsonAsync($"/admin/v1/businesses/{first}/whatsapp", body)).EnsureSuccessStatusCode();

        var response = await admin.PutAsJsonAsync($"/admin/v1/businesses/{second}/whatsapp", body);

        await response.AssertErrorAsync(HttpStatusCode.Conflict, "CONFLICT");
        Assert.Null(response.Headers.RetryAfter); // waiting changes nothing (and the OpenAPI document says none)
    }

    [Fact]
    public async Task ReconnectingReplacesTheConnection()
    {
        var id = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PutAsJsonAsync($"/admin/v1/businesses/{id}/whatsapp",
            new { phone_number_id = "700000000000001", waba_id = "1", access_token = "t1" })).EnsureSuccessStatusCode();

        var response = await admin.PutAsJsonAsync($"/admin/v1/businesses/{id}/whatsapp",
            new { phone_number_id = "700000000000002", waba_id = "2", access_token = "t2" });

        var whatsapp = (await response.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("business").GetProperty("whatsapp");
        Assert.Equal("700000000000002", whatsapp.GetProperty("phone_number_id").GetString());
    }

    [Theory]
    [InlineData("""{"waba_id":"1","access_token":"t"}""", "phone_number_id")]
    [InlineData("""{"phone_number_id":"12a","waba_id":"1","access_token":"t"}""", "phone_number_id")]
    [InlineData("""{"phone_number_id":"\u0661\u0662\u0663","waba_id":"1","access_token":"t"}""", "phone_number_id")] // Arabic-Indic and full-width digits: digits, but not Meta's
    [InlineData("""{"phone_number_id":"1","waba_id":"\uFF11\uFF12","access_token":"t"}""", "waba_id")]
    [InlineData("""{"phone_number_id":"1","access_token":"t"}""", "waba_id")]
    [InlineData("""{"phone_number_id":"1","waba_id":"1"}""", "access_token")]
    [InlineData("""{"phone_number_id":"1","waba_id":"1","access_token":"t","token":"x"}""", "token")]
    [InlineData("""{"phone_number_id":"1","waba_id":"1","access_token":"EAAG\u0000abc"}""", "access_token")]
    [InlineData("""{"phone_number_id":"1","waba_id":"1","access_token":"EAAG\r\nX-Injected: 1"}""", "access_token")]
    [InlineData("""{"phone_number_id":"1","waba_id":"1","access_token":"EAAG abc"}""", "access_token")]
    [InlineData("""{"phone_number_id":"1","waba_id":"1","access_token":"EAAGété"}""", "access_token")]
    [InlineData("""{"phone_number_id":"1","waba_id":"1","access_token":"EAAG","display_phone_number":"155500000000000000000000000000000"}""", "display_phone_number")]
    [InlineData("""{"phone_number_id":"1","waba_id":"1","access_token":"EAAG","display_phone_number":"1555\n0000"}""", "display_phone_number")]
    [InlineData("""{"sandbox":true,"display_phone_number":"1555\u00000000"}""", "display_phone_number")]
    public async Task InvalidConnectionsAreRefusedNamingTheField(string body, string field)
    {
        var id = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var response = await admin.PutAsync($"/admin/v1/businesses/{id}/whatsapp",
            new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal(field, json.GetProperty("field").GetString());
    }

    [Theory]
    [InlineData("Bearer EAAGm0PX4ZCpsBAKZAZBmZCZCpT1x2")] // copied from a curl line of Meta's docs or Graph API Explorer
    [InlineData(" bearer\tEAAGm0PX4ZCpsBAKZAZBmZCZCpT1x2")]
    public async Task ATokenWrittenAfterBearerIsRefusedSayingToGiveTheTokenAlone(string token)
    {
        var id = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var response = await admin.PutAsJsonAsync($"/admin/v1/businesses/{id}/whatsapp",
            new { phone_number_id = "1065403522" + id, waba_id = "102290129340398", access_token = token });

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        Assert.Equal(("access_token", "access_token is the token alone: leave out the \"Bearer \" before it (the server writes Meta's Authorization header itself)."),
            (json.GetProperty("field").GetString(), json.GetProperty("error").GetString()));
    }

    [Theory]
    [InlineData("EAAGm0PX4ZCpsBAKZAZBmZCZCpT1x2")]
    [InlineData("abc-._~+/==")]
    public async Task TokensOfMetasShapeAreAccepted(string token)
    {
        var id = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var response = await admin.PutAsJsonAsync($"/admin/v1/businesses/{id}/whatsapp",
            new { phone_number_id = "1065403522" + id, waba_id = "102290129340398", access_token = token });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task AConnectWhoseCallerLeavesWhileItWritesChangesNothingAndLogsNoError()
    {
        // EF wrapped each save of the connect's transaction in a savepoint, and its roll-back to it, under the caller's
        // cancelled token, failed and was logged as an Error ("An error occurred using a transaction."): an alert for a
        // dashboard closed at the wrong moment.
        await using var server = new CallerLeavesAtTheConnectsWrite();
        var id = await server.CreateBusinessAsync();
        using var admin = server.CreateAdminClient();
        server.LeaveAtTheNextWrite = true; // not at the seed's

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            admin.PutAsJsonAsync($"/admin/v1/businesses/{id}/whatsapp", new { sandbox = true }, server.CallerLeaves.Token));

        var turns = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Api.Admin.AdminTurns>(server.Services);
        await Poll.UntilAsync(() => !turns.Connects.IsInUse(id), "the connect's end"); // it goes on after its caller left
        Assert.DoesNotContain(server.Logs.Events, e => e.Level >= Serilog.Events.LogEventLevel.Error);
        var whatsapp = (await (await admin.GetAsync($"/admin/v1/businesses/{id}")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("business").GetProperty("whatsapp");
        Assert.False(whatsapp.GetProperty("connected").GetBoolean());
    }

    /// <summary>A server whose admin client gives up (its request's token cancelled) as the connect writes its connection.</summary>
    private sealed class CallerLeavesAtTheConnectsWrite : TwaBotApiFactory
    {
        public CancellationTokenSource CallerLeaves { get; } = new();

        public bool LeaveAtTheNextWrite { get; set; }

        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services => Microsoft.Extensions.DependencyInjection.EntityFrameworkServiceCollectionExtensions
                .ConfigureDbContext<Api.Data.TwaBotDbContext>(services, options => options.AddInterceptors(new LeaveAtInsert(this))));
        }

        public override async ValueTask DisposeAsync()
        {
            CallerLeaves.Dispose();
            await base.DisposeAsync();
        }
    }

    private sealed class LeaveAtInsert(CallerLeavesAtTheConnectsWrite server) : Microsoft.EntityFrameworkCore.Diagnostics.DbCommandInterceptor
    {
        public override async ValueTask<Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<System.Data.Common.DbDataReader>> ReaderExecutingAsync(
            System.Data.Common.DbCommand command, Microsoft.EntityFrameworkCore.Diagnostics.CommandEventData eventData,
            Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<System.Data.Common.DbDataReader> result, CancellationToken cancellationToken = default)
        {
            if (server.LeaveAtTheNextWrite && command.CommandText.Contains("INSERT INTO \"whatsapp_connections\"", StringComparison.Ordinal))
            {
                server.CallerLeaves.Cancel();
                // The server sees its caller leave a moment later: the insert then runs under the request's cancelled token.
                await Poll.UntilAsync(() => cancellationToken.IsCancellationRequested, "the request's token cancelled");
            }

            return await base.ReaderExecutingAsync(command, eventData, result, cancellationToken);
        }
    }
}
