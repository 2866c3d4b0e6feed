using System.Net;
using System.Net.Http.Json;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Sandbox;

/// <summary><c>POST /sandbox/v1/inbound</c>: a customer's message, delivered as Meta's signed webhook.</summary>
public class SandboxInboundTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    public static TheoryData<string, string, string> BadRequests => new()
    {
        { """{"business_id":1,"from":"12","text":"Hi"}""", "INVALID_PHONE", "from" },
        { """{"business_id":1,"from":"919876543210"}""", "VALIDATION_FAILED", "text" },
        { """{"business_id":1,"from":"919876543210","text":"Hi","timestamp":99999999999999}""", "VALIDATION_FAILED", "timestamp" },
        { """{"business_id":1,"from":"919876543210","text":"Hi","timestamp":-1}""", "VALIDATION_FAILED", "timestamp" },
        { """{"business_id":987654,"from":"919876543210","text":"Hi"}""", "VALIDATION_FAILED", "business_id" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task ABadRequestNamesTheField(string body, string errorCode, string field)
    {
        using var admin = factory.CreateAdminClient();
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");

        var response = await admin.PostAsync("/sandbox/v1/inbound", content);

        Assert.Equal(field, (await response.AssertErrorAsync(HttpStatusCode.BadRequest, errorCode)).GetProperty("field").GetString());
    }

    [Fact]
    public async Task AMessageFromTheFutureIsRefusedAndOneFromNowIsAccepted()
    {
        using var admin = factory.CreateAdminClient();
        var now = factory.Clock.GetUtcNow();

        var future = await admin.PostAsJsonAsync("/sandbox/v1/inbound",
            new { business_id = 1, from = "919876543210", text = "Hi", timestamp = now.AddDays(1).ToUnixTimeSeconds() });
        var present = await admin.PostAsJsonAsync("/sandbox/v1/inbound",
            new { business_id = 1, from = "919876543210", text = "Hi", timestamp = now.ToUnixTimeSeconds() });

        Assert.Equal("timestamp", (await future.AssertErrorAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED")).GetProperty("field").GetString());
        Assert.True((await present.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("delivered").GetBoolean());
    }
}
