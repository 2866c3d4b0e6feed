using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Sandbox;

/// <summary>The emulated Graph API answers bad paging the way Meta does, and its own cursors page through.</summary>
public class SandboxGraphApiTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public void TemplateIdsAreFifteenDigitsWithoutALeadingZero()
    {
        // A leading zero (one draw in ten) is lost by a client reading the id as a number: the id then names no template.
        var ids = Enumerable.Range(0, 200).Select(_ => Api.Sandbox.SandboxTemplatesApi.NewTemplateId()).ToList();

        Assert.All(ids, id => Assert.Matches("^[1-9][0-9]{14}$", id));
    }

    [Fact]
    public async Task ASubmittedTemplateIsStoredInTurnWithTheServersWriters()
    {
        // The emulator's store is the server's database file: a write beside the sends' commits met them in SQLite's busy loop.
        var (client, wabaId) = await GraphClientAsync();
        var gate = factory.Services.GetRequiredService<Api.Data.SqliteWriteGate>();

        Task<HttpResponseMessage> submit;
        using (await gate.EnterAsync(CancellationToken.None))
        {
            submit = client.PostAsJsonAsync($"/sandbox/graph/v23.0/{wabaId}/message_templates",
                new { name = "in_turn", language = "en", category = "UTILITY", components = new[] { new { type = "BODY", text = "Hello" } } });
            Assert.NotSame(submit, await Task.WhenAny(submit, Task.Delay(300))); // not answered in 300 ms: waiting for the gate
        }

        Assert.Equal(HttpStatusCode.OK, (await submit).StatusCode);
    }

    [Theory]
    [InlineData("limit=abc")]
    [InlineData("limit=99999999999")]
    [InlineData("limit=-1")]
    [InlineData("after=%00")]
    [InlineData("after=not-base64!")]
    [InlineData("after=LTU%3D")] // "-5"
    [InlineData("after=eA%3D%3D")] // "x"
    public async Task BadPagingIsMetasInvalidParameter(string query)
    {
        var (client, wabaId) = await GraphClientAsync();

        var response = await client.GetAsync($"/sandbox/graph/v23.0/{wabaId}/message_templates?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal(100, error.GetProperty("code").GetInt32());
    }

    [Theory]
    [InlineData("GET", "(#100) Unsupported get request.")]
    [InlineData("POST", "(#100) Unsupported post request.")]
    public async Task AnUnknownAccountIsMetasErrorNamingTheMethod(string method, string starts)
    {
        var (client, _) = await GraphClientAsync();

        using var request = new HttpRequestMessage(new HttpMethod(method), "/sandbox/graph/v23.0/999000111222333/message_templates");
        if (method == "POST")
        {
            request.Content = JsonContent.Create(new { name = "x", language = "en", category = "UTILITY", components = Array.Empty<object>() });
        }

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal((100, 33), (error.GetProperty("code").GetInt32(), error.GetProperty("error_subcode").GetInt32()));
        Assert.StartsWith(starts, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("GraphMethodException", error.GetProperty("type").GetString());
        Assert.StartsWith("A", error.GetProperty("fbtrace_id").GetString(), StringComparison.Ordinal); // Meta's errors each carry one
    }

    [Theory]
    [InlineData("""{"type":"text","text":{"body":""}}""", 400, "text.body is required.")]
    [InlineData("""{"type":"text","text":{"body":"Hi"}}""", 200, null)]
    [InlineData("""{"type":"image","image":{"id":"1234567890"}}""", 200, null)]            // an uploaded file, by its media id
    [InlineData("""{"type":"document","document":{"link":"https://x.example/a.pdf"}}""", 200, null)]
    [InlineData("""{"type":"image","image":{"caption":"no file"}}""", 400, "image.link or image.id is required.")]
    public async Task ItsSendChecksTheMessageAsMetaDoes(string message, int status, string? details)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var (client, phoneNumberId) = await MessagesClientAsync(tenant.BusinessId);
        var body = """{"messaging_product":"whatsapp","to":"919876543210",""" + message[1..];

        var response = await client.PostAsync($"/sandbox/graph/v23.0/{phoneNumberId}/messages", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(status, (int)response.StatusCode);
        if (details is not null)
        {
            // The server words a refused send's error from these details (MetaErrorMapping), not from the generic title.
            var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
            Assert.Equal(details, error.GetProperty("error_data").GetProperty("details").GetString());
        }
    }

    [Fact]
    public async Task ItsAnswerEchoesTheNumberAsGivenAndReportsPacingForTemplatesOnly()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var (client, phoneNumberId) = await MessagesClientAsync(tenant.BusinessId);
        var body = """{"messaging_product":"whatsapp","to":"+91 98765 43210","type":"text","text":{"body":"Hi"}}""";

        var response = await client.PostAsync($"/sandbox/graph/v23.0/{phoneNumberId}/messages", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var contact = answer.GetProperty("contacts")[0];
        Assert.Equal(("+91 98765 43210", "919876543210"), (contact.GetProperty("input").GetString(), contact.GetProperty("wa_id").GetString()));
        Assert.False(answer.GetProperty("messages")[0].TryGetProperty("message_status", out _));
    }

    [Fact]
    public async Task ItsCursorsPageThroughEveryTemplate()
    {
        var (client, wabaId) = await GraphClientAsync();

        var first = JsonDocument.Parse(await client.GetStringAsync($"/sandbox/graph/v23.0/{wabaId}/message_templates?limit=1")).RootElement;
        var after = first.GetProperty("paging").GetProperty("cursors").GetProperty("after").GetString();
        var second = JsonDocument.Parse(await client.GetStringAsync(
            $"/sandbox/graph/v23.0/{wabaId}/message_templates?limit=1&after={Uri.EscapeDataString(after!)}")).RootElement;

        var names = new[] { first, second }.Select(page => Assert.Single(page.GetProperty("data").EnumerateArray()).GetProperty("name").GetString());
        Assert.Equal(["order_confirmation", "otp_verification"], names.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task TheMetaClientListsTheAccountsNumbersFromTheEmulatorAsFromMeta()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        Api.Meta.MetaConnection connection = null!;
        await factory.WithDbAsync(async db => connection = Api.Meta.MetaConnection.Open(
            await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == tenant.BusinessId),
            factory.Services.GetRequiredService<Api.Businesses.AccessTokenProtector>())!);
        var meta = factory.Services.GetRequiredService<Api.Meta.MetaClient>();

        var listed = await meta.ListPhoneNumbersAsync(connection, default);
        var otherToken = await meta.ListPhoneNumbersAsync(connection with { AccessToken = "EAAGnotThisAccountsToken0123456789" }, default);
        var otherAccount = await meta.ListPhoneNumbersAsync(connection with { WabaId = "999000111222333" }, default);

        var number = Assert.Single(listed.Value!);
        Assert.Equal((connection.PhoneNumberId, Api.Businesses.WhatsAppConnection.SandboxDisplayPhoneNumber),
            (number.Id, number.DisplayPhoneNumber));
        Assert.True(otherToken.Failure?.Error?.IsAuthorization);
        Assert.Equal(100, otherAccount.Failure?.Error?.Code);
    }

    [Theory]
    [InlineData("""[{"type":"body","parameters":[{"type":"text","text":"482913"}]}]""", 400)]
    [InlineData("""[{"type":"body","parameters":[{"type":"text","text":"482913"}]},{"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"text","text":"482913"}]}]""", 400)]
    [InlineData("""[{"type":"body","parameters":[{"type":"text","text":"482913"}]},{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"482913"}]}]""", 200)]
    public async Task AnAuthenticationTemplateNeedsItsCodeOnTheButton(string components, int status)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var (client, phoneNumberId) = await MessagesClientAsync(tenant.BusinessId);
        var body = """{"messaging_product":"whatsapp","to":"919876543210","type":"template","template":{"name":"otp_verification","language":{"code":"en"},"components":"""
            + components + "}}";

        var response = await client.PostAsync($"/sandbox/graph/v23.0/{phoneNumberId}/messages", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(status, (int)response.StatusCode);
        if (status == 400)
        {
            Assert.Equal(132000, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetInt32());
        }
    }

    [Fact]
    public async Task ItsFiltersPickTemplatesAndItsNextPageKeepsThem()
    {
        var (client, wabaId) = await GraphClientAsync();

        var byName = JsonDocument.Parse(await client.GetStringAsync($"/sandbox/graph/v23.0/{wabaId}/message_templates?name=otp_verification")).RootElement;
        var pending = JsonDocument.Parse(await client.GetStringAsync($"/sandbox/graph/v23.0/{wabaId}/message_templates?status=PENDING")).RootElement;
        var approved = JsonDocument.Parse(await client.GetStringAsync($"/sandbox/graph/v23.0/{wabaId}/message_templates?status=approved&limit=1")).RootElement;

        Assert.Equal("otp_verification", Assert.Single(byName.GetProperty("data").EnumerateArray()).GetProperty("name").GetString());
        Assert.Empty(pending.GetProperty("data").EnumerateArray());
        Assert.Contains("status=approved", approved.GetProperty("paging").GetProperty("next").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheServersOwnLargeMetaCallsAreReadNotRefusedAs413()
    {
        // Non-ASCII text is escaped in the server's Meta calls (\uXXXX), so a send within the API's 64 KB
        // can be several times that at the emulator; it answered 413 in its own shape, and the server said
        // Meta could not be reached.
        var tenant = await factory.CreateSendingTenantAsync();
        var (client, phoneNumberId) = await MessagesClientAsync(tenant.BusinessId);
        var body = """{"messaging_product":"whatsapp","to":"919876543210","type":"text","text":{"body":" """ + new string('x', 200_000) + "\"}}";

        var response = await client.PostAsync($"/sandbox/graph/v23.0/{phoneNumberId}/messages", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.TryGetProperty("messages", out _));
    }

    [Theory]
    [InlineData("", 400)]                                                                                         // the link's end not given
    [InlineData(""",{"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":"ORD-1"}]}""", 200)]
    [InlineData(""",{"type":"button","sub_type":"url","index":1,"parameters":[{"type":"text","text":"ORD-1"}]}""", 200)] // an index as a number
    [InlineData(""",{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"ORD-1"}]}""", 400)] // the quick reply's place
    [InlineData(""",{"type":"button","sub_type":"copy_code","index":"1","parameters":[{"type":"coupon_code","coupon_code":"A1"}]}""", 400)] // wrong kind
    [InlineData(""",{"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":""}]}""", 400)] // empty
    [InlineData(""",{"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":"ORD-1"}]},{"type":"button","sub_type":"url","index":"5","parameters":[{"type":"text","text":"x"}]}""", 400)] // no button 5
    public async Task AButtonWhoseLinkEndsInAVariableNeedsItsEndAtItsIndex(string buttons, int status)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", new
        {
            name = "order_track", language = "en", category = "UTILITY", body = "Shipped",
            buttons = new object[] { new { type = "QUICK_REPLY", text = "Thanks" }, new { type = "URL", text = "Track", url = "https://shop.example/t/{{1}}" } },
        })).EnsureSuccessStatusCode();
        var (client, phoneNumberId) = await MessagesClientAsync(tenant.BusinessId);
        var body = """{"messaging_product":"whatsapp","to":"919876543210","type":"template","template":{"name":"order_track","language":{"code":"en"},"components":[{"type":"body","parameters":[]}"""
            + buttons + "]}}";

        var response = await client.PostAsync($"/sandbox/graph/v23.0/{phoneNumberId}/messages", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(status, (int)response.StatusCode);
        if (status == 400)
        {
            Assert.Equal(132000, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetInt32());
        }
    }

    [Theory]
    [InlineData("SAVE10", 200)]
    [InlineData("SAVE-10", 400)]
    [InlineData("SAVE10SAVE10SAVE", 400)]
    public async Task ACopyCodeButtonNeedsACouponCodeOfLettersAndDigits(string code, int status)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates", new
        {
            name = "coupon", language = "en", category = "MARKETING", body = "Your code", buttons = new[] { new { type = "COPY_CODE", example = "A1" } },
        })).EnsureSuccessStatusCode();
        var (client, phoneNumberId) = await MessagesClientAsync(tenant.BusinessId);
        var body = $$$"""{"messaging_product":"whatsapp","to":"919876543210","type":"template","template":{"name":"coupon","language":{"code":"en"},"components":[{"type":"button","sub_type":"COPY_CODE","index":0,"parameters":[{"type":"coupon_code","coupon_code":"{{{code}}}"}]}]}}""";

        var response = await client.PostAsync($"/sandbox/graph/v23.0/{phoneNumberId}/messages", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(status, (int)response.StatusCode);
    }

    [Theory]
    [InlineData("", 400)]                                                                              // the header's {{1}} not given
    [InlineData("""{"type":"header","parameters":[{"type":"image","image":{"link":"https://x.example/a.png"}}]},""", 400)] // a file for a text header
    [InlineData("""{"type":"header","parameters":[{"type":"text","text":"Diwali"}]},""", 200)]
    public async Task ATextHeadersPlaceholdersNeedTextParameters(string header, int status)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates",
            new { name = "festival_sale", language = "en", category = "MARKETING", header_text = "{{1}} sale", body = "Hi {{1}}" })).EnsureSuccessStatusCode();
        var (client, phoneNumberId) = await MessagesClientAsync(tenant.BusinessId);
        var body = """{"messaging_product":"whatsapp","to":"919876543210","type":"template","template":{"name":"festival_sale","language":{"code":"en"},"components":["""
            + header + """{"type":"body","parameters":[{"type":"text","text":"Asha"}]}]}}""";

        var response = await client.PostAsync($"/sandbox/graph/v23.0/{phoneNumberId}/messages", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(status, (int)response.StatusCode);
    }

    /// <summary>A client of the emulated Graph API with the business's token, and the business's phone number id.</summary>
    private async Task<(HttpClient Client, string PhoneNumberId)> MessagesClientAsync(long businessId)
    {
        var phoneNumberId = "";
        await factory.WithDbAsync(async db => phoneNumberId = (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == businessId)).PhoneNumberId);
        return (await BearerClientAsync(businessId), phoneNumberId);
    }

    private async Task<(HttpClient Client, string WabaId)> GraphClientAsync()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var wabaId = "";
        await factory.WithDbAsync(async db => wabaId = (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == tenant.BusinessId)).WabaId);
        return (await BearerClientAsync(tenant.BusinessId), wabaId);
    }

    /// <summary>A client that presents the business's access token, as the Meta client does.</summary>
    private async Task<HttpClient> BearerClientAsync(long businessId)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await factory.AccessTokenOfAsync(businessId));
        return client;
    }
}
