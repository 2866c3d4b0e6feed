using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Sandbox;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Sandbox;

public class SandboxSeederTests
{
    [Theory]
    [InlineData("http://localhost:5080", null, "http://localhost:5080")]               // dotnet run (launchSettings)
    [InlineData("http://127.0.0.1:5392;https://127.0.0.1:5393", null, "http://127.0.0.1:5392")]
    [InlineData("http://+:8080", null, "http://localhost:8080")]
    [InlineData("http://*:80/", null, "http://localhost:80")]
    [InlineData("http://0.0.0.0:9000", null, "http://localhost:9000")]
    [InlineData("http://[::]:9001", null, "http://localhost:9001")]
    [InlineData(null, "8080", "http://localhost:8080")]                               // the container image's ASPNETCORE_HTTP_PORTS
    [InlineData(null, null, "http://localhost:5000")]                                 // Kestrel's default
    public void TheFirstStartBannerPointsAtTheAddressTheServerWasGiven(string? urls, string? httpPorts, string expected) =>
        Assert.Equal(expected, SandboxSeeder.TryItBaseUrl(urls, httpPorts));

    [Fact]
    public async Task ALaterStartPrintsNoKeyButSaysWhereANewOneComesFrom()
    {
        var databasePath = Path.Combine(Path.GetTempPath(), $"twabot-restart-{Guid.NewGuid():N}.db");
        await using var first = await ServerProcess.StartAsync(databasePath: databasePath);
        _ = first.SeededApiKey();
        await first.TerminateAsync(TimeSpan.FromSeconds(20));

        await using var restarted = await ServerProcess.StartAsync(databasePath: databasePath);
        var output = restarted.OutputMatching("to start afresh");

        Assert.DoesNotMatch("twb_test_[A-Za-z0-9]{49}", output);
        Assert.Contains("POST /admin/v1/businesses/{id}/api-keys", output, StringComparison.Ordinal);
        Assert.Contains($" {databasePath} to start afresh.", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AConfiguredAdminKeyIsNeverPrinted()
    {
        // Only a generated one is shown, since nobody else knows it; the operator's own would land in every console capture.
        const string adminKey = "operators-own-admin-key-0123456789";
        await using var server = await ServerProcess.StartAsync(new Dictionary<string, string> { ["TwaBot__AdminKey"] = adminKey });
        _ = server.SeededApiKey();
        await server.TerminateAsync(TimeSpan.FromSeconds(20)); // all it printed is read once it has exited

        Assert.DoesNotContain(adminKey, server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("X-Admin-Key:", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheSandboxBusinessIsProWithOneKeyHoldingEveryPermission()
    {
        // PRODUCT §4: a Pro business and one `*` key, the one printed.
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?>());

        using var client = server.CreateClient(); // starts it, seeding the sandbox

        await server.WithDbAsync(async db =>
        {
            var business = await db.Businesses.SingleAsync(b => b.Name == "Sandbox Business");
            var key = Assert.Single(await db.ApiKeys.Where(k => k.BusinessId == business.Id).ToListAsync());
            Assert.Equal(Api.Businesses.Plan.Pro, business.Plan);
            Assert.Equal([Api.ApiKeys.ApiKeyPermissions.All], key.Permissions);
            Assert.StartsWith(Api.ApiKeys.ApiKeyFormat.TestPrefix, key.Prefix, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task TheSandboxBusinessCountsItsDaysInTheConfiguredTimeZone()
    {
        // Its daily cap resets at midnight there, as a business created through the admin API would.
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:DefaultTimeZone"] = "America/Sao_Paulo" });

        using var client = server.CreateClient(); // starts it, seeding the sandbox

        await server.WithDbAsync(async db => Assert.Equal("America/Sao_Paulo",
            (await db.Businesses.SingleAsync(b => b.Name == "Sandbox Business")).TimeZone));
    }

    [Fact]
    public async Task TheSandboxBusinessShowsTheEmulatorsNumberAndItsTemplatesAsTheEmulatorHoldsThem()
    {
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?>());
        using var admin = server.CreateAdminClient(); // starts it, seeding the sandbox
        var id = 0L;
        await server.WithDbAsync(async db => id = (await db.Businesses.SingleAsync(b => b.Name == "Sandbox Business")).Id);

        var whatsapp = (await (await admin.GetAsync($"/admin/v1/businesses/{id}")).ReadJsonAsync(System.Net.HttpStatusCode.OK))
            .GetProperty("business").GetProperty("whatsapp");
        // A sync finds the emulator's copies as the business's own: it changes nothing, the footer included.
        var sync = await (await admin.PostAsync($"/admin/v1/businesses/{id}/templates/sync", null)).ReadJsonAsync(System.Net.HttpStatusCode.OK);
        var templates = (await (await admin.GetAsync($"/admin/v1/businesses/{id}/templates")).ReadJsonAsync(System.Net.HttpStatusCode.OK))
            .GetProperty("templates").EnumerateArray().ToDictionary(t => t.GetProperty("name").GetString()!);

        Assert.Equal(Api.Businesses.WhatsAppConnection.SandboxDisplayPhoneNumber, whatsapp.GetProperty("display_phone_number").GetString());
        Assert.Equal(0, sync.GetProperty("updated").GetInt32());
        Assert.Equal("UTILITY", templates["order_confirmation"].GetProperty("category").GetString());
        Assert.Equal("TwaBot - WhatsApp Business", templates["order_confirmation"].GetProperty("footer_text").GetString());
        // An authentication template, so it counts towards the OTP cap per recipient whichever endpoint sends it.
        Assert.Equal("AUTHENTICATION", templates["otp_verification"].GetProperty("category").GetString());
    }

    [Fact]
    public async Task ALiveServerStartsOnAnEmptyDatabaseWithoutTheSandboxBusiness()
    {
        await using var live = LiveMode.Factory();
        using var admin = live.CreateAdminClient(); // starts it

        var listed = await (await admin.GetAsync("/admin/v1/businesses")).ReadJsonAsync(System.Net.HttpStatusCode.OK);

        Assert.Empty(listed.GetProperty("businesses").EnumerateArray());
    }

    [Fact]
    public async Task ASandboxStartOnADatabaseThatHasBusinessesSeedsNothing()
    {
        // PRODUCT §4: the Sandbox Business is made on a first start with an empty database only; a database a live server
        // filled (then started in sandbox mode, to try something) keeps just its own businesses, without a new `*` key.
        using var database = new TemporaryDatabase();
        await using (var live = new TwaBotApiFactory(LiveMode.Settings(), "Production", database.Path) { DeleteDatabaseOnDispose = false })
        {
            await live.CreateBusinessAsync(name: "Sharma Sweets");
        }

        await using var sandbox = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: database.Path) { DeleteDatabaseOnDispose = false };
        using var admin = sandbox.CreateAdminClient(); // starts it, in sandbox mode

        var listed = await (await admin.GetAsync("/admin/v1/businesses")).ReadJsonAsync(System.Net.HttpStatusCode.OK);

        Assert.Equal(["Sharma Sweets"], listed.GetProperty("businesses").EnumerateArray().Select(b => b.GetProperty("name").GetString()));
    }

    [Theory]
    [InlineData("Production", true)]
    [InlineData("Development", false)]
    public async Task ASandboxOutsideDevelopmentWarnsAtStartThatNothingReachesMeta(string environment, bool warns)
    {
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:Sandbox:Enabled"] = "true" }, environment);

        using var client = server.CreateClient(); // starts it

        var warnings = server.Logs.Events.Where(e => e.Level == Serilog.Events.LogEventLevel.Warning)
            .Select(e => e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture))
            .Where(m => m.StartsWith("Sandbox mode in the", StringComparison.Ordinal)).ToList();
        Assert.Equal(warns ? 1 : 0, warnings.Count);
        Assert.All(warnings, m => Assert.Contains("TwaBot:Sandbox:Enabled=false", m, StringComparison.Ordinal));
    }
}
