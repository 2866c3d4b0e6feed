using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Sandbox;

/// <summary>The benchmark's reference routes and the emulator's latency (bench/TwaBot.Bench measures with them).</summary>
public class BenchmarkReferenceTests
{
    private static readonly object OrderConfirmation =
        new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-12345", "₹1,499" } };

    [Theory]
    [InlineData("/sandbox/v1/reference/send")]
    [InlineData("/sandbox/v1/reference/ok")]
    public async Task TheReferenceRoutesDoNotExistUnlessEnabled(string path)
    {
        await using var factory = new TwaBotApiFactory();
        using var client = factory.CreateClient();

        var response = await client.PostAsJsonAsync(path, OrderConfirmation);

        await response.AssertErrorAsync(HttpStatusCode.NotFound, "NOT_FOUND");
    }

    [Fact]
    public async Task ALiveServerHasNoReferenceRoutesEvenWhenAskedFor()
    {
        var settings = LiveMode.Settings();
        settings["TwaBot:Sandbox:BenchmarkReferences"] = "true";
        await using var factory = new TwaBotApiFactory(settings, environment: "Production");
        using var client = factory.CreateClient();

        var response = await client.PostAsJsonAsync("/sandbox/v1/reference/ok", new { });

        await response.AssertErrorAsync(HttpStatusCode.NotFound, "NOT_FOUND");
    }

    [Fact]
    public async Task ReferenceSendReturnsAWamidAndWritesNoMessageNorStatus()
    {
        await using var factory = References();
        using var client = factory.CreateClient();

        var json = await (await client.PostAsJsonAsync("/sandbox/v1/reference/send", OrderConfirmation)).ReadJsonAsync(HttpStatusCode.OK);
        await factory.SettleStatusesAsync();

        Assert.True(json.GetProperty("success").GetBoolean());
        Assert.StartsWith("wamid.", json.GetProperty("message_id").GetString(), StringComparison.Ordinal);
        await factory.WithDbAsync(async db =>
        {
            Assert.Equal(0, await db.Messages.CountAsync());
            Assert.Equal(0, await db.WebhookEvents.CountAsync());
        });
    }

    [Fact]
    public async Task ReferenceSendAnswers502WhenTheEmulatorRefuses()
    {
        await using var factory = References();
        using var client = factory.CreateClient();

        var response = await client.PostAsJsonAsync("/sandbox/v1/reference/send",
            new { phone = "919876543210", template_name = "no_such_template", body_params = Array.Empty<string>() });

        await response.AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE");
    }

    [Fact]
    public async Task ReferenceOkReadsTheBodyAndAnswers200()
    {
        await using var factory = References();
        using var client = factory.CreateClient();

        var json = await (await client.PostAsJsonAsync("/sandbox/v1/reference/ok", new { entry = new[] { 1, 2, 3 } })).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(["success"], json.PropertyNames());
        Assert.True(json.GetProperty("success").GetBoolean());
    }

    [Fact]
    public async Task GraphLatencyDelaysEachEmulatedSend()
    {
        await using var factory = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:Sandbox:GraphLatencyMilliseconds"] = "300" });
        var tenant = await factory.CreateSendingTenantAsync();

        var elapsed = Stopwatch.StartNew();
        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template", OrderConfirmation);
        elapsed.Stop();

        await response.ReadJsonAsync(HttpStatusCode.OK);
        // A lower bound only: the delay is real time, whatever the fake clock says.
        Assert.True(elapsed.ElapsedMilliseconds >= 300, $"The send took {elapsed.ElapsedMilliseconds} ms.");
    }

    private static TwaBotApiFactory References() =>
        new(new Dictionary<string, string?> { ["TwaBot:Sandbox:BenchmarkReferences"] = "true" });
}
