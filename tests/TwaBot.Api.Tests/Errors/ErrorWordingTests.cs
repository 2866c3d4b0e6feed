using System.Net;
using System.Text;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Errors;

/// <summary>
/// The same fault reads the same wherever it is made (a send, quick-send, the admin API, the sandbox), and an error
/// names the field as the client wrote it, in the words the other errors of the same request use.
/// </summary>
public class ErrorWordingTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<(string? Field, string? Error)> ErrorOf(HttpResponseMessage response, string errorCode = "VALIDATION_FAILED")
    {
        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, errorCode);
        return (json.TryGetProperty("field", out var field) ? field.GetString() : null, json.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("EN")] // a code in the wrong case: the sends say which to write
    [InlineData("english")]
    public async Task ALanguageCodeIsRefusedInTheSameWordsByTheAdminTemplatesAsByTheSends(string language)
    {
        var tenant = await factory.CreateSendingTenantAsync(permissions: ["*"]);
        using var admin = factory.CreateAdminClient();

        var send = await ErrorOf(await tenant.Client.PostAsync("/api/v1/send-template",
            Json($$"""{"phone":"919876543210","template_name":"order_confirmation","language":"{{language}}"}""")));
        var submit = await ErrorOf(await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates",
            Json($$"""{"name":"spring_sale","language":"{{language}}","category":"MARKETING","body":"Hi {{1}}"}""")));

        Assert.Equal(send, submit);
    }

    [Theory]
    [InlineData("""["send_text","send"]""", "permissions[1]")]
    [InlineData("""["send_text",null]""", "permissions[1]")]
    [InlineData("""[7]""", "permissions[0]")] // the type error the JSON reader names: the same field
    public async Task APermissionThatIsNotOneIsNamedByItsIndexAsEveryOtherListValueIs(string permissions, string field)
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();

        var (given, error) = await ErrorOf(await admin.PostAsync($"/admin/v1/businesses/{businessId}/api-keys",
            Json($$"""{"name":"k","permissions":{{permissions}}}""")));

        Assert.Equal(field, given);
        Assert.StartsWith(field + " ", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/v1/send-text", """{"phone":919876543210,"message":"Hi"}""", "phone")]
    [InlineData("/api/v1/send-template", """{"phone":"919876543210","template_name":"order_confirmation","body_params":[1,2,3]}""", "body_params[0]")]
    [InlineData("/api/v1/send-text", """{"phone":"919876543210","phone":"919876543211","message":"Hi"}""", "phone")]
    public async Task AFieldOfTheWrongTypeIsNamedAsTheOtherErrorsNameIt(string path, string body, string field)
    {
        // "phone is required: …" and "Field 'phone' must be a string" answered the same field in two styles.
        var tenant = await factory.CreateSendingTenantAsync(permissions: ["*"]);

        var (given, error) = await ErrorOf(await tenant.Client.PostAsync(path, Json(body)));

        Assert.Equal(field, given);
        Assert.StartsWith(field + " ", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Field '", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAdminFieldOfTheWrongTypeOrUnknownIsNamedAsTheOtherErrorsNameIt()
    {
        using var admin = factory.CreateAdminClient();

        var wrongType = await ErrorOf(await admin.PostAsync("/admin/v1/businesses", Json("""{"name":"Acme","plan":7}""")));
        var unknown = await ErrorOf(await admin.PostAsync("/admin/v1/businesses", Json("""{"name":"Acme","plan":"Pro","owner":"Rahul"}""")));

        Assert.Equal(("plan", "plan must be a string, in double quotes (\"12345\", not 12345)."), wrongType);
        Assert.Equal(("owner", "owner is not allowed here."), unknown);
    }

    /// <summary>Each admin body refuses a field it does not have, a nested one too, rather than storing the rest without it.</summary>
    [Theory]
    [InlineData("suppressions", """{"phone":"919876543210","state":"opted_out","owner":"Rahul"}""", "owner")]
    [InlineData("suppressions/import", """{"suppressions":[{"phone":"919876543210","state":"opted_out"}],"owner":"Rahul"}""", "owner")]
    [InlineData("suppressions/import", """{"suppressions":[{"phone":"919876543210","state":"opted_out","owner":"Rahul"}]}""", "suppressions[0].owner")]
    [InlineData("templates", """{"name":"order_track","language":"en","category":"UTILITY","body":"Shipped","owner":"Rahul"}""", "owner")]
    public async Task EachAdminBodyRefusesAnUnknownFieldNamingIt(string path, string body, string field)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();

        var (given, error) = await ErrorOf(await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/{path}", Json(body)));

        Assert.Equal((field, $"{field} is not allowed here."), (given, error));
    }

    [Fact]
    public async Task AFieldOfAWrongTypeTheReaderSaysNoMoreOfIsNamedBareToo()
    {
        // true for a number: the reader says only that the type is wrong.
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();

        var (given, error) = await ErrorOf(await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/api-keys", Json("""{"name":"My CRM","daily_limit":true}""")));

        Assert.Equal(("daily_limit", "daily_limit has the wrong type or an invalid value."), (given, error));
    }

    [Theory] // the reader writes such names in JSON path syntax, $['time zone'], which no form builder reads
    [InlineData("""{"name":"Acme","plan":"Pro","time zone":"Asia/Kolkata"}""", "time zone")]
    [InlineData("""{"name":"Acme","plan":"Pro","time.zone":"Asia/Kolkata"}""", "time.zone")]
    [InlineData("""{"name":"Acme","plan":"Pro","owner's name":"Rahul"}""", "owner's name")] // the reader writes a quote in such a name as it is
    [InlineData("""{"name":"Acme","plan":"Pro","pay']day":"x"}""", "pay']day")]                   // even the two characters that end the name
    [InlineData("""{"name":"Acme","plan":"Pro","time\\zone":"Asia/Kolkata"}""", "time\\zone")]
    public async Task AnUnknownFieldWithASpaceOrADotInItsNameIsNamedAsWritten(string body, string field)
    {
        using var admin = factory.CreateAdminClient();

        var (given, error) = await ErrorOf(await admin.PostAsync("/admin/v1/businesses", Json(body)));

        Assert.Equal((field, $"{field} is not allowed here."), (given, error));
    }

    [Fact]
    public async Task AnUnknownFieldInAListIsNamedWithItsPlace()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();

        var (given, error) = await ErrorOf(await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", Json(
            """{"name":"order_track","language":"en","category":"UTILITY","body":"Shipped","buttons":[{"type":"QUICK_REPLY","text":"Thanks","button text":"x"}]}""")));

        Assert.Equal(("buttons[0].button text", "buttons[0].button text is not allowed here."), (given, error));
    }

    [Fact]
    public async Task AKeyGivenTwiceReadsTheSameInEveryHeader()
    {
        var tenant = await factory.CreateSendingTenantAsync(permissions: ["*"]);
        using var client = factory.CreateClient();

        async Task<string?> Twice(string path, string header, params (string Name, string Value)[] others)
        {
            using var request = new HttpRequestMessage(path.Contains("send", StringComparison.Ordinal) ? HttpMethod.Post : HttpMethod.Get, path);
            request.Headers.TryAddWithoutValidation(header, ["one-key", "another-key"]);
            foreach (var (name, value) in others)
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }

            request.Content = Json("""{"phone":"919876543210","message":"Hi"}""");
            using var response = await client.SendAsync(request);
            return (await response.ReadJsonAsync(response.StatusCode)).GetProperty("error").GetString();
        }

        var apiKey = await Twice("/api/v1/health", "X-API-Key");
        var adminKey = await Twice("/admin/v1/businesses/1", "X-Admin-Key");
        var idempotencyKey = await Twice("/api/v1/send-text", "Idempotency-Key", ("X-API-Key", tenant.Key));

        Assert.Equal("Invalid API key: X-API-Key is given more than once; give one key.", apiKey);
        Assert.Equal("X-Admin-Key is given more than once; give one key.", adminKey);
        Assert.Equal("Idempotency-Key is given more than once; give one key.", idempotencyKey);
    }

    [Fact]
    public async Task ASuppressionsMissingPhoneIsAskedForAsTheSendsAskForIt()
    {
        var tenant = await factory.CreateSendingTenantAsync(permissions: ["*"]);
        using var admin = factory.CreateAdminClient();

        var send = await ErrorOf(await tenant.Client.PostAsync("/api/v1/send-text", Json("""{"phone":" ","message":"Hi"}""")));
        var add = await ErrorOf(await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions", Json("""{"phone":" ","state":"opted_out"}""")));
        var import = await ErrorOf(await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions/import",
            Json("""{"suppressions":[{"phone":" ","state":"opted_out"}]}""")));

        Assert.Equal(send, add);
        Assert.Equal(("suppressions[0].phone", send.Error!.Replace("phone is", "suppressions[0].phone is", StringComparison.Ordinal)), import);
    }

    [Fact]
    public async Task TheSandboxsMissingSenderIsAskedForAsTheSendsAskForAPhone()
    {
        var tenant = await factory.CreateSendingTenantAsync(permissions: ["*"]);
        using var admin = factory.CreateAdminClient();

        var send = await ErrorOf(await tenant.Client.PostAsync("/api/v1/send-text", Json("""{"message":"Hi"}""")));
        var inbound = await ErrorOf(await admin.PostAsync("/sandbox/v1/inbound", Json($$"""{"business_id":{{tenant.BusinessId}},"text":"Hi"}""")));

        Assert.Equal(("from", send.Error!.Replace("phone is", "from is", StringComparison.Ordinal)), inbound);
    }
}
