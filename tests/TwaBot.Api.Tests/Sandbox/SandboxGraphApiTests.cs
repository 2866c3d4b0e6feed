using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Sandbox;

/// <summary>The emulated Graph API answers as Meta does: its checks and error codes for sends and template submissions, its lists, filters and cursors.</summary>
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
    [InlineData("after=MQ%3D%3D%20%20%20%20%20%20%20%20%20%20%20%20%20%20%20%20%20%20%20%20%20")] // "1", padded past any cursor it gives
    [InlineData("after=M%20Q%3D%3D")] // "1" with a space inside: base64 readers skip it, but no cursor given out has one
    [InlineData("after=MDE%3D")] // "01": a number this emulator never writes
    public async Task BadPagingIsMetasInvalidParameter(string query)
    {
        var (client, wabaId) = await GraphClientAsync();

        var response = await client.GetAsync($"/sandbox/graph/v23.0/{wabaId}/message_templates?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal(100, error.GetProperty("code").GetInt32());
    }

    [Theory]
    [InlineData("GET", "Unsupported get request.")]   // a Graph error, not one of WhatsApp's: no "(#100)" before it (meta-cloud-api.md §2.1)
    [InlineData("POST", "Unsupported post request.")]
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

    [Theory]
    [InlineData("""{"to":"919876543210","type":"text","text":{"body":"Hi"}}""", 100, "messaging_product is required and must be whatsapp.")]
    [InlineData("""{"messaging_product":"whatsapp","to":"+","type":"text","text":{"body":"Hi"}}""", 100, "The parameter to is required.")]
    [InlineData("""{"messaging_product":"whatsapp","to":"919876543210","type":"hologram"}""", 131051, "Message type hologram is not supported.")]
    [InlineData("""[{"messaging_product":"whatsapp","to":"919876543210","type":"text","text":{"body":"Hi"}}]""", 100, "The request body must be a JSON object.")]
    [InlineData("""{"messaging_product":"whatsapp","to":"919876543210","type":"template","template":{"name":"order_confirmation"}}""", 100, "template.name and template.language.code are required.")]
    public async Task ItsSendRefusesWhatMetaRefusesWithMetasCode(string body, int code, string details)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var (client, phoneNumberId) = await MessagesClientAsync(tenant.BusinessId);

        var response = await client.PostAsync($"/sandbox/graph/v23.0/{phoneNumberId}/messages", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal((code, details), (error.GetProperty("code").GetInt32(), error.GetProperty("error_data").GetProperty("details").GetString()));
        // WhatsApp's own refusals, "(#100) Invalid parameter" among them, are numbered; only Graph's token and object errors are not.
        Assert.StartsWith($"(#{code}) ", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("POST", "v23/{phone}/messages")]        // a version without its minor number
    [InlineData("POST", "vX.0/{phone}/messages")]
    [InlineData("POST", "v23.0/{phone}/media")]         // an edge the emulator does not have
    [InlineData("GET", "v23.0/{phone}/messages")]       // a method the edge does not take
    [InlineData("DELETE", "v23.0/{waba}/message_templates")]
    [InlineData("GET", "")]
    public async Task APathOrMethodItDoesNotHaveIsMetasUnsupportedRequestNotOurs(string method, string path)
    {
        // A client calling the emulator by hand reads Meta's error there, as it would at graph.facebook.com.
        var tenant = await factory.CreateSendingTenantAsync();
        var (client, phoneNumberId) = await MessagesClientAsync(tenant.BusinessId);
        var wabaId = "";
        await factory.WithDbAsync(async db => wabaId = (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == tenant.BusinessId)).WabaId);
        using var request = new HttpRequestMessage(new HttpMethod(method), "/sandbox/graph/" + path.Replace("{phone}", phoneNumberId).Replace("{waba}", wabaId));
        if (method == "POST")
        {
            request.Content = new StringContent("""{"messaging_product":"whatsapp","to":"919876543210","type":"text","text":{"body":"Hi"}}""",
                System.Text.Encoding.UTF8, "application/json");
        }

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal((100, 33, "GraphMethodException"),
            (error.GetProperty("code").GetInt32(), error.GetProperty("error_subcode").GetInt32(), error.GetProperty("type").GetString()));
        Assert.StartsWith($"Unsupported {method.ToLowerInvariant()} request.", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("A", error.GetProperty("fbtrace_id").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("messages", """{"messaging_product":"whatsapp","to":"919876543210","to":"919876543211","type":"text","text":{"body":"Hi"}}""")]
    [InlineData("messages", """{"messaging_product":"whatsapp","to":"919876543210","type":"text","text":{"body":"Hi","body":"Ho"}}""")]
    [InlineData("messages", "{\"messaging_product\":\"whatsapp\",\"to\":\"91987654321\u00FF\",\"type\":\"text\",\"text\":{\"body\":\"Hi\"}}")] // a byte that is not UTF-8
    [InlineData("messages", "{\"messaging_product\":\"whatsapp\",\"to\":\"919876543210\",\"type\":\"text\",\"text\":{\"body\":\"H\u00C3\"}}")] // half a UTF-8 character
    [InlineData("messages", "{\"messaging_product\":\"whatsapp\",\"to\":\"919876543210\",\"type\":\"text\",\"text\":{\"b\u00FFdy\":\"Hi\"}}")] // in a name
    [InlineData("messages", """{"messaging_product":"whatsapp","to":"919876543210","type":"text","text":{"body":"\ud800"}}""")] // half a surrogate pair
    [InlineData("message_templates", """{"name":"twice","name":"again","language":"en","category":"UTILITY"}""")]
    [InlineData("message_templates", "{\"name\":\"bad\u00FE\",\"language\":\"en\",\"category\":\"UTILITY\"}")]
    public async Task ABodyThatIsNotTextJsonIsMetasInvalidParameterNotAServerError(string edge, string body)
    {
        // A hostile client calls the emulator directly: what cannot be read as JSON text is Meta's 100, never our 500.
        var tenant = await factory.CreateSendingTenantAsync();
        var (client, phoneNumberId) = await MessagesClientAsync(tenant.BusinessId);
        var wabaId = "";
        await factory.WithDbAsync(async db => wabaId = (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == tenant.BusinessId)).WabaId);
        using var content = new ByteArrayContent(System.Text.Encoding.Latin1.GetBytes(body)); // \u00FF is the byte 0xFF
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var response = await client.PostAsync($"/sandbox/graph/v23.0/{(edge == "messages" ? phoneNumberId : wabaId)}/{edge}", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal((100, "OAuthException"), (error.GetProperty("code").GetInt32(), error.GetProperty("type").GetString()));
        Assert.StartsWith("A", error.GetProperty("fbtrace_id").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("919876500047", 400, 131047, "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last replied to this number.")] // the README's magic numbers, answered as Meta answers them
    [InlineData("919876500429", 400, 130429, "Rate limit hit", "Cloud API message throughput has been reached.")]
    [InlineData("919876500500", 500, 131000, "Something went wrong", "Something went wrong. Please try again later.")]
    public async Task ItsMagicNumbersGetMetasStatusAndCode(string to, int status, int code, string title, string details)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var (client, phoneNumberId) = await MessagesClientAsync(tenant.BusinessId);
        var body = $$$"""{"messaging_product":"whatsapp","to":"{{{to}}}","type":"text","text":{"body":"Hi"}}""";

        var response = await client.PostAsync($"/sandbox/graph/v23.0/{phoneNumberId}/messages", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(status, (int)response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetInt32());
        // The whole of Meta's shape (meta-cloud-api.md §2.1): clients branch on code and error_data.details, and quote fbtrace_id to Meta.
        Assert.Equal($"(#{code}) {title}", error.GetProperty("message").GetString());
        Assert.Equal("OAuthException", error.GetProperty("type").GetString());
        Assert.False(error.TryGetProperty("error_subcode", out _));
        Assert.Equal(("whatsapp", details),
            (error.GetProperty("error_data").GetProperty("messaging_product").GetString(), error.GetProperty("error_data").GetProperty("details").GetString()));
        Assert.Matches("^A[A-Za-z0-9_-]{20}$", error.GetProperty("fbtrace_id").GetString());
    }

    [Theory]
    [InlineData("Bearer", "sandbox_0123456789abcdef0123456789abcdef")] // another account's token
    [InlineData("Digest", null)]                                         // the connection's token, but not as a bearer token
    public async Task ItsSendTakesOnlyTheConnectionsBearerToken(string scheme, string? token)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var (_, phoneNumberId) = await MessagesClientAsync(tenant.BusinessId);
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(scheme, token ?? await factory.AccessTokenOfAsync(tenant.BusinessId));
        var body = """{"messaging_product":"whatsapp","to":"919876543210","type":"text","text":{"body":"Hi"}}""";

        var response = await client.PostAsync($"/sandbox/graph/v23.0/{phoneNumberId}/messages", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal(190, error.GetProperty("code").GetInt32());
        // Graph's token errors are written without WhatsApp's "(#190)" before them (meta-cloud-api.md §2.1).
        Assert.StartsWith("Invalid OAuth access token", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ItsSendTakesTheBearerSchemeInAnyCase()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var (_, phoneNumberId) = await MessagesClientAsync(tenant.BusinessId);
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "bearer " + await factory.AccessTokenOfAsync(tenant.BusinessId));
        var body = """{"messaging_product":"whatsapp","to":"919876543210","type":"text","text":{"body":"Hi"}}""";

        var response = await client.PostAsync($"/sandbox/graph/v23.0/{phoneNumberId}/messages", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ATokenTheServerCannotReadMatchesNoBearerToken()
    {
        // Written into the file from outside (not encrypted), a token decrypts to nothing: that must refuse every caller, not admit them all.
        var (client, wabaId) = await GraphClientAsync();
        await factory.WithDbAsync(async db =>
        {
            foreach (var connection in await db.WhatsAppConnections.Where(w => w.WabaId == wabaId).ToListAsync())
            {
                connection.ProtectedAccessToken = "sandbox_plain";
            }
            await db.SaveChangesAsync();
        });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "sandbox_plain");

        var response = await client.GetAsync($"/sandbox/graph/v23.0/{wabaId}/message_templates");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(190, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task ANumberConnectedToMetaIsUnknownToTheEmulatorEvenWithItsToken()
    {
        // Development keeps a Meta connection beside the sandbox; the emulator plays Meta for sandbox numbers only.
        var businessId = await factory.CreateBusinessAsync();
        var phoneNumberId = await factory.ConnectWhatsAppAsync(businessId, "106540352249999");
        using var client = await BearerClientAsync(businessId);
        var body = """{"messaging_product":"whatsapp","to":"919876543210","type":"text","text":{"body":"Hi"}}""";

        var response = await client.PostAsync($"/sandbox/graph/v23.0/{phoneNumberId}/messages", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal((100, 33), (error.GetProperty("code").GetInt32(), error.GetProperty("error_subcode").GetInt32()));
    }

    [Fact]
    public async Task ItsAnswerToATemplateReportsItAccepted()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var (client, phoneNumberId) = await MessagesClientAsync(tenant.BusinessId);
        var body = """{"messaging_product":"whatsapp","to":"919876543210","type":"template","template":{"name":"order_confirmation","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","text":"Rahul"},{"type":"text","text":"ORD-1"},{"type":"text","text":"9"}]}]}}""";

        var response = await client.PostAsync($"/sandbox/graph/v23.0/{phoneNumberId}/messages", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var message = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("messages")[0];
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("wamid.", message.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("accepted", message.GetProperty("message_status").GetString());
    }

    [Theory]
    [InlineData("""{"type":"text","text":{"body":"Hi"}}""", "service")]
    [InlineData("""{"type":"template","template":{"name":"order_confirmation","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","text":"Rahul"},{"type":"text","text":"ORD-1"},{"type":"text","text":"9"}]}]}}""", "utility")]
    public async Task ItsStatusWebhooksPriceTheMessageInItsCategory(string message, string category)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var (client, phoneNumberId) = await MessagesClientAsync(tenant.BusinessId);
        var body = """{"messaging_product":"whatsapp","to":"919876543210",""" + message[1..];

        var response = await client.PostAsync($"/sandbox/graph/v23.0/{phoneNumberId}/messages", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var wamid = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("messages")[0].GetProperty("id").GetString()!;
        await factory.SettleStatusesAsync();

        var bodies = new List<byte[]>();
        await factory.WithDbAsync(async db => bodies = await db.WebhookEvents.OrderBy(e => e.Id).Select(e => e.Body).ToListAsync());
        var statuses = bodies.Select(b => JsonDocument.Parse(b).RootElement)
            .SelectMany(root => root.GetProperty("entry").EnumerateArray()).SelectMany(entry => entry.GetProperty("changes").EnumerateArray())
            .Where(change => change.GetProperty("value").TryGetProperty("statuses", out _))
            .SelectMany(change => change.GetProperty("value").GetProperty("statuses").EnumerateArray())
            .Where(status => status.GetProperty("id").GetString() == wamid).ToList();
        Assert.Equal(["sent", "delivered", "read"], statuses.Select(s => s.GetProperty("status").GetString()));
        Assert.All(statuses, s => Assert.Equal(category, s.GetProperty("pricing").GetProperty("category").GetString()));
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
        Assert.Equal("whatsapp", answer.GetProperty("messaging_product").GetString()); // as Meta's answer has it
        Assert.False(answer.GetProperty("messages")[0].TryGetProperty("message_status", out _));
    }

    [Fact]
    public async Task ItsWamidNamesTheChatByTheWaIdItAnswers()
    {
        // A wamid encodes the customer's wa_id (meta-cloud-api.md §7), which for a Brazilian mobile written with its ninth digit is not the number as given.
        var tenant = await factory.CreateSendingTenantAsync();
        var (client, phoneNumberId) = await MessagesClientAsync(tenant.BusinessId);
        var body = """{"messaging_product":"whatsapp","to":"5511987654321","type":"text","text":{"body":"Oi"}}""";

        var response = await client.PostAsync($"/sandbox/graph/v23.0/{phoneNumberId}/messages", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var waId = answer.GetProperty("contacts")[0].GetProperty("wa_id").GetString()!;
        var chat = Convert.FromBase64String(answer.GetProperty("messages")[0].GetProperty("id").GetString()!["wamid.".Length..]);
        Assert.Equal("551187654321", waId);
        Assert.Equal(waId, System.Text.Encoding.ASCII.GetString(chat, 3, chat[2]));
    }

    [Fact]
    public async Task ItsCursorsPageThroughEveryTemplate()
    {
        var (client, wabaId) = await GraphClientAsync();

        var first = JsonDocument.Parse(await client.GetStringAsync($"/sandbox/graph/v23.0/{wabaId}/message_templates?limit=1")).RootElement;
        var after = first.GetProperty("paging").GetProperty("cursors").GetProperty("after").GetString();
        var second = JsonDocument.Parse(await client.GetStringAsync(
            $"/sandbox/graph/v23.0/{wabaId}/message_templates?limit=1&after={Uri.EscapeDataString(after!)}")).RootElement;
        var next = JsonDocument.Parse(await client.GetStringAsync(first.GetProperty("paging").GetProperty("next").GetString())).RootElement;

        var names = new[] { first, second }.Select(page => Assert.Single(page.GetProperty("data").EnumerateArray()).GetProperty("name").GetString());
        Assert.Equal(["order_confirmation", "otp_verification"], names.Order(StringComparer.Ordinal));
        Assert.Equal(second.GetProperty("data").ToString(), next.GetProperty("data").ToString()); // the next link is the following page, as the sync reads it
    }

    [Fact]
    public async Task ItsNextLinksLeadOnFromEveryPageToTheLastWhichHasNone()
    {
        // The sync follows next links to the end: each must lead on from its own page, not from the first, and the last lead nowhere.
        var (client, wabaId) = await GraphClientAsync();
        (await client.PostAsJsonAsync($"/sandbox/graph/v23.0/{wabaId}/message_templates",
            new { name = "third_one", language = "en", category = "UTILITY", components = new[] { new { type = "BODY", text = "Hi" } } })).EnsureSuccessStatusCode();

        var pages = new List<JsonElement> { JsonDocument.Parse(await client.GetStringAsync($"/sandbox/graph/v23.0/{wabaId}/message_templates?limit=1")).RootElement };
        while (pages.Count < 4 && pages[^1].GetProperty("paging").TryGetProperty("next", out var next))
        {
            pages.Add(JsonDocument.Parse(await client.GetStringAsync(next.GetString())).RootElement);
        }

        Assert.Equal(["order_confirmation", "otp_verification", "third_one"],
            pages.Select(page => Assert.Single(page.GetProperty("data").EnumerateArray()).GetProperty("name").GetString()).Order(StringComparer.Ordinal));
        var cursors = pages.Select(page => page.GetProperty("paging").GetProperty("cursors")).ToList();
        Assert.Equal(cursors[1].GetProperty("after").GetString(), cursors[2].GetProperty("before").GetString()); // a page begins where the one before it ended
    }

    [Fact]
    public async Task ATemplatesNameIsTakenOnlyInItsOwnAccount()
    {
        var (client, wabaId) = await GraphClientAsync();
        var (otherClient, otherWabaId) = await GraphClientAsync();
        object Template() => new { name = "shared_name", language = "en", category = "UTILITY", components = new[] { new { type = "BODY", text = "Hi" } } };

        var first = await client.PostAsJsonAsync($"/sandbox/graph/v23.0/{wabaId}/message_templates", Template());
        var other = await otherClient.PostAsJsonAsync($"/sandbox/graph/v23.0/{otherWabaId}/message_templates", Template());

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (first.StatusCode, other.StatusCode));
    }

    [Fact]
    public async Task AnAuthenticationTemplateIsKnownInAnyCaseAndHasOnlyMetasTexts()
    {
        // The category and component types are read in any case (a "marketing" submission is listed MARKETING); Meta writes an
        // authentication template's texts itself, such a template has no header, and its copy-code button is listed as a URL button.
        var (client, wabaId) = await GraphClientAsync();
        var templates = $"/sandbox/graph/v23.0/{wabaId}/message_templates";

        (await client.PostAsJsonAsync(templates, new
        {
            name = "login_lower", language = "en", category = "authentication",
            components = new object[]
            {
                new { type = "header", format = "TEXT", text = "Log in" },
                new { type = "body", add_security_recommendation = true },
                new { type = "footer", code_expiration_minutes = 5 },
            },
        })).EnsureSuccessStatusCode();
        var template = Assert.Single(JsonDocument.Parse(await client.GetStringAsync($"{templates}?name=login_lower")).RootElement.GetProperty("data").EnumerateArray());

        Assert.Equal("AUTHENTICATION", template.GetProperty("category").GetString());
        Assert.Equal(["BODY:{{1}} is your verification code. For your security, do not share this code.", "FOOTER:This code expires in 5 minutes.", "BUTTONS:"],
            template.GetProperty("components").EnumerateArray().Select(c => c.GetProperty("type").GetString() + ":" + (c.TryGetProperty("text", out var text) ? text.GetString() : "")));
    }

    [Fact]
    public async Task ALastPagesAfterCursorPointsJustPastItsLastTemplate()
    {
        // A Graph cursor marks the end of the data returned, not of the page asked for: resuming from it later finds what was added since.
        var (client, wabaId) = await GraphClientAsync();
        var templates = $"/sandbox/graph/v23.0/{wabaId}/message_templates";

        var last = JsonDocument.Parse(await client.GetStringAsync($"{templates}?limit=5")).RootElement;
        (await client.PostAsJsonAsync(templates, new { name = "added_later", language = "en", category = "UTILITY", components = new[] { new { type = "BODY", text = "Hi" } } }))
            .EnsureSuccessStatusCode();
        var after = last.GetProperty("paging").GetProperty("cursors").GetProperty("after").GetString();
        var resumed = JsonDocument.Parse(await client.GetStringAsync($"{templates}?limit=5&after={Uri.EscapeDataString(after!)}")).RootElement;

        Assert.Equal(2, last.GetProperty("data").GetArrayLength());
        Assert.Equal("added_later", Assert.Single(resumed.GetProperty("data").EnumerateArray()).GetProperty("name").GetString());
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

    [Fact]
    public async Task ItsAccountsNumbersAreItsSandboxNumbersUnderTheBusinesssName()
    {
        // A Meta connection on the same WABA (Development keeps one beside the sandbox) is no number of the emulator's.
        var live = await factory.CreateBusinessAsync();
        await factory.ConnectWhatsAppAsync(live, "106540352247777");
        var businessId = await factory.CreateBusinessAsync(name: "Sharma Sweets");
        using var admin = factory.CreateAdminClient();
        var connected = await (await admin.PutAsJsonAsync($"/admin/v1/businesses/{businessId}/whatsapp", new { sandbox = true, waba_id = "102290129340398" }))
            .ReadJsonAsync(HttpStatusCode.OK);
        using var client = await BearerClientAsync(businessId);

        var listed = JsonDocument.Parse(await client.GetStringAsync("/sandbox/graph/v23.0/102290129340398/phone_numbers")).RootElement;

        var number = Assert.Single(listed.GetProperty("data").EnumerateArray());
        Assert.Equal(connected.GetProperty("business").GetProperty("whatsapp").GetProperty("phone_number_id").GetString(), number.GetProperty("id").GetString());
        Assert.Equal(("Sharma Sweets", "GREEN"), (number.GetProperty("verified_name").GetString(), number.GetProperty("quality_rating").GetString()));
    }

    [Theory]
    [InlineData("""[{"type":"body","parameters":[{"type":"text","text":"482913"}]}]""", 400)]
    [InlineData("""[{"type":"body","parameters":[{"type":"text","text":"482913"}]},{"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"text","text":"482913"}]}]""", 400)]
    [InlineData("""[{"type":"body","parameters":[{"type":"text","text":"482913"}]},{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"482913"}]}]""", 200)]
    [InlineData("""[{"type":"body","parameters":[{"type":"text","text":"482913"}]},{"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":"482913"}]}]""", 400)] // not the button's index
    [InlineData("""[{"type":"body","parameters":[{"type":"text","text":"4829134829134829"}]},{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"4829134829134829"}]}]""", 400)] // 16 characters
    [InlineData("""[{"type":"body","parameters":[{"type":"text","text":"482913482913482"}]},{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"482913482913482"}]}]""", 200)] // 15
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

    [Theory]
    [InlineData("category=authentication", "otp_verification")]
    [InlineData("category=UTILITY", "order_confirmation")]
    [InlineData("language=en&name=order_confirmation", "order_confirmation")]
    [InlineData("language=hi", null)]
    [InlineData("category=MARKETING", null)]
    public async Task ItsCategoryAndLanguageFiltersPickTemplates(string filter, string? only)
    {
        var (client, wabaId) = await GraphClientAsync();

        var listed = JsonDocument.Parse(await client.GetStringAsync($"/sandbox/graph/v23.0/{wabaId}/message_templates?{filter}")).RootElement;

        Assert.Equal(only is null ? [] : [only], listed.GetProperty("data").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task ASubmittedTemplateIsApprovedAtOnceAndListedAsMetaListsIt()
    {
        var (client, wabaId) = await GraphClientAsync();
        var templates = $"/sandbox/graph/v23.0/{wabaId}/message_templates";
        object Named(string name) => new
        {
            name, language = "en", category = "marketing", parameter_format = "NAMED",
            components = new object[]
            {
                new { type = "HEADER", format = "TEXT", text = "Diwali sale" },
                new { type = "BODY", text = "Hi {{first_name}}" },
                new { type = "FOOTER", text = "Reply STOP to opt out" },
                new { type = "BUTTONS", buttons = new[] { new { type = "QUICK_REPLY", text = "Stop promotions" } } },
            },
        };

        var created = JsonDocument.Parse(await (await client.PostAsJsonAsync(templates, Named("diwali_named"))).Content.ReadAsStringAsync()).RootElement;
        var again = await client.PostAsJsonAsync(templates, Named("diwali_named"));
        var listed = JsonDocument.Parse(await client.GetStringAsync($"{templates}?name=diwali_named")).RootElement;
        var positional = JsonDocument.Parse(await client.GetStringAsync($"{templates}?name=order_confirmation")).RootElement;

        Assert.Equal(("APPROVED", "MARKETING"), (created.GetProperty("status").GetString(), created.GetProperty("category").GetString()));
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode); // one template per name and language, as at Meta
        var duplicate = JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal((100, 2388024), (duplicate.GetProperty("code").GetInt32(), duplicate.GetProperty("error_subcode").GetInt32()));
        var template = Assert.Single(listed.GetProperty("data").EnumerateArray());
        Assert.Equal(created.GetProperty("id").GetString(), template.GetProperty("id").GetString());
        Assert.Equal(("NAMED", "APPROVED", "MARKETING", "NONE"), (template.GetProperty("parameter_format").GetString(),
            template.GetProperty("status").GetString(), template.GetProperty("category").GetString(), template.GetProperty("rejected_reason").GetString()));
        Assert.Equal(["HEADER:Diwali sale", "BODY:Hi {{first_name}}", "FOOTER:Reply STOP to opt out", "BUTTONS:"],
            template.GetProperty("components").EnumerateArray().Select(c => c.GetProperty("type").GetString() + ":" + (c.TryGetProperty("text", out var text) ? text.GetString() : "")));
        Assert.Equal("Stop promotions", template.GetProperty("components")[3].GetProperty("buttons")[0].GetProperty("text").GetString());
        Assert.Equal("TEXT", template.GetProperty("components")[0].GetProperty("format").GetString()); // Meta names a header's format
        Assert.Equal("POSITIONAL", Assert.Single(positional.GetProperty("data").EnumerateArray()).GetProperty("parameter_format").GetString());
        Assert.Equal("UNKNOWN", template.GetProperty("quality_score").GetProperty("score").GetString()); // not scored yet, as a new template at Meta
    }

    [Theory]
    [InlineData("""{"language":"en","category":"UTILITY"}""")]
    [InlineData("""{"name":"no_language","category":"UTILITY"}""")]
    [InlineData("""{"name":"no_category","language":"en"}""")] // Meta asks for one: none is taken for UTILITY
    public async Task ASubmissionWithoutItsNameLanguageOrCategoryIsMetasInvalidParameter(string body)
    {
        var (client, wabaId) = await GraphClientAsync();

        var response = await client.PostAsync($"/sandbox/graph/v23.0/{wabaId}/message_templates", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal((100, "name, language and category are required."), (error.GetProperty("code").GetInt32(), error.GetProperty("error_data").GetProperty("details").GetString()));
    }

    [Fact]
    public async Task ATemplatesNameInAnotherLanguageIsATranslationNotADuplicate()
    {
        var (client, wabaId) = await GraphClientAsync();
        var templates = $"/sandbox/graph/v23.0/{wabaId}/message_templates";

        var translated = await client.PostAsJsonAsync(templates, new
        {
            name = "order_confirmation", language = "hi", category = "UTILITY", components = new[] { new { type = "BODY", text = "नमस्ते {{1}}" } },
        });
        var listed = JsonDocument.Parse(await client.GetStringAsync($"{templates}?name=order_confirmation")).RootElement;

        Assert.Equal(HttpStatusCode.OK, translated.StatusCode);
        Assert.Equal(["en", "hi"], listed.GetProperty("data").EnumerateArray().Select(t => t.GetProperty("language").GetString()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ANamedVariableIsRefusedUnlessTheTemplateIsSubmittedAsNamed()
    {
        var (client, wabaId) = await GraphClientAsync();

        var response = await client.PostAsJsonAsync($"/sandbox/graph/v23.0/{wabaId}/message_templates",
            new { name = "greeting", language = "en", category = "UTILITY", components = new[] { new { type = "BODY", text = "Hi {{first_name}}" } } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(100, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetInt32());
    }

    [Theory]
    [InlineData("Hi {{FirstName}}", null)]
    [InlineData("Hi {{first_name}}", "{{Brand}} sale")]
    public async Task ANamedVariableWithCapitalsIsRefusedAsMetaRefusesIt(string body, string? header)
    {
        var (client, wabaId) = await GraphClientAsync();
        var components = new List<object> { new { type = "BODY", text = body } };
        if (header is not null)
        {
            components.Insert(0, new { type = "HEADER", format = "TEXT", text = header });
        }

        var response = await client.PostAsJsonAsync($"/sandbox/graph/v23.0/{wabaId}/message_templates",
            new { name = "greeting", language = "en", category = "UTILITY", parameter_format = "NAMED", components });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(100, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetInt32());
    }

    [Theory]
    [InlineData(true, 10, "{{1}} is your verification code. For your security, do not share this code.", "This code expires in 10 minutes.")]
    [InlineData(false, null, "{{1}} is your verification code.", null)]
    public async Task AnAuthenticationTemplatesTextsAreWrittenFromItsOptions(bool securityNote, int? expiresIn, string body, string? footer)
    {
        var (client, wabaId) = await GraphClientAsync();
        var templates = $"/sandbox/graph/v23.0/{wabaId}/message_templates";
        var name = $"login_code_{securityNote}".ToLowerInvariant();

        (await client.PostAsJsonAsync(templates, new
        {
            name, language = "en", category = "AUTHENTICATION",
            components = new object[]
            {
                new { type = "BODY", add_security_recommendation = securityNote },
                new { type = "FOOTER", code_expiration_minutes = expiresIn },
                new { type = "BUTTONS", buttons = new[] { new { type = "OTP", otp_type = "COPY_CODE" } } },
            },
        })).EnsureSuccessStatusCode();
        var listed = JsonDocument.Parse(await client.GetStringAsync($"{templates}?name={name}")).RootElement;

        var components = Assert.Single(listed.GetProperty("data").EnumerateArray()).GetProperty("components").EnumerateArray()
            .ToDictionary(c => c.GetProperty("type").GetString()!);
        Assert.Equal(body, components["BODY"].GetProperty("text").GetString());
        Assert.Equal(footer, components.TryGetValue("FOOTER", out var expiry) ? expiry.GetProperty("text").GetString() : null);
        // Meta: the OTP button of the request is a URL button once created, its link ending in the code a send gives it.
        var button = Assert.Single(components["BUTTONS"].GetProperty("buttons").EnumerateArray());
        Assert.Equal("URL", button.GetProperty("type").GetString());
        Assert.EndsWith("{{1}}", button.GetProperty("url").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0", 1)]      // at least one a page
    [InlineData("500", 100)]  // at most a hundred
    [InlineData(null, 25)]    // Graph's page when none is asked for
    public async Task ItsPageSizeIsKeptBetweenOneAndAHundred(string? limit, int expected)
    {
        var (client, wabaId) = await GraphClientAsync();
        await factory.WithDbAsync(async db =>
        {
            db.SandboxTemplates.AddRange(Enumerable.Range(0, 110).Select(i => new Api.Sandbox.SandboxTemplate
            {
                WabaId = wabaId, MetaId = Api.Sandbox.SandboxTemplatesApi.NewTemplateId(), Name = $"bulk_{i:D3}", Language = "en",
                Category = "UTILITY", Status = "APPROVED", Body = "Hello",
            }));
            await db.SaveChangesAsync();
        });

        var page = JsonDocument.Parse(await client.GetStringAsync($"/sandbox/graph/v23.0/{wabaId}/message_templates{(limit is null ? "" : $"?limit={limit}")}")).RootElement;

        Assert.Equal(expected, page.GetProperty("data").GetArrayLength());
        Assert.Contains($"limit={expected}&", page.GetProperty("paging").GetProperty("next").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("first_name", 200)]
    [InlineData("name", 400)]
    public async Task ANamedTemplateTakesEachValueByItsName(string parameterName, int status)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var (client, phoneNumberId) = await MessagesClientAsync(tenant.BusinessId);
        var wabaId = "";
        await factory.WithDbAsync(async db => wabaId = (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == tenant.BusinessId)).WabaId);
        (await client.PostAsJsonAsync($"/sandbox/graph/v23.0/{wabaId}/message_templates", new
        {
            name = "welcome_named", language = "en", category = "UTILITY", parameter_format = "NAMED",
            components = new[] { new { type = "BODY", text = "Welcome, {{first_name}}" } },
        })).EnsureSuccessStatusCode();
        var body = $$$"""{"messaging_product":"whatsapp","to":"919876543210","type":"template","template":{"name":"welcome_named","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","parameter_name":"{{{parameterName}}}","text":"Asha"}]}]}}""";

        var response = await client.PostAsync($"/sandbox/graph/v23.0/{phoneNumberId}/messages", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(status, (int)response.StatusCode);
        if (status == 400)
        {
            Assert.Equal(132000, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetInt32());
        }
    }

    [Fact]
    public async Task ATemplateNotApprovedAtMetaCannotBeSent()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var (client, phoneNumberId) = await MessagesClientAsync(tenant.BusinessId);
        await factory.WithDbAsync(async db =>
        {
            var connection = await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == tenant.BusinessId);
            db.SandboxTemplates.Add(new Api.Sandbox.SandboxTemplate
            {
                WabaId = connection.WabaId, MetaId = Api.Sandbox.SandboxTemplatesApi.NewTemplateId(), Name = "in_review", Language = "en",
                Category = "UTILITY", Status = "PENDING", Body = "Hello",
            });
            await db.SaveChangesAsync();
        });
        var body = """{"messaging_product":"whatsapp","to":"919876543210","type":"template","template":{"name":"in_review","language":{"code":"en"}}}""";

        var response = await client.PostAsync($"/sandbox/graph/v23.0/{phoneNumberId}/messages", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(132001, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetInt32());
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
    [InlineData(""",{"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"payload","payload":"x"}]},{"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":"ORD-1"}]}""", 200)] // a quick reply's payload, which Meta takes (meta-cloud-api.md §1.2)
    [InlineData(""",{"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"text","text":"x"}]},{"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":"ORD-1"}]}""", 400,
        "button: the button at index 0 takes no parameter, or one payload parameter (sub_type quick_reply)")] // but no text, and the refusal says what it takes
    [InlineData(""",{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"payload","payload":"x"}]},{"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":"ORD-1"}]}""", 400)] // a payload, but not as a quick reply's
    [InlineData(""",{"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"payload","payload":""}]},{"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":"ORD-1"}]}""", 400)] // an empty payload
    [InlineData(""",{"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"text","payload":"x"}]},{"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":"ORD-1"}]}""", 400)] // a payload in a parameter of another type
    [InlineData(""",{"type":"button","sub_type":"copy_code","index":"1","parameters":[{"type":"coupon_code","coupon_code":"A1"}]}""", 400)] // wrong kind
    [InlineData(""",{"type":"button","sub_type":"quick_reply","index":"1","parameters":[{"type":"text","text":"ORD-1"}]}""", 400)] // the link's end, but not as a url button's
    [InlineData(""",{"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":""}]}""", 400)] // empty
    [InlineData(""",{"type":"button","sub_type":"url","index":"1","parameters":[{"type":"text","text":"ORD-1"}]},{"type":"button","sub_type":"url","index":"5","parameters":[{"type":"text","text":"x"}]}""", 400)] // no button 5
    public async Task AButtonWhoseLinkEndsInAVariableNeedsItsEndAtItsIndex(string buttons, int status, string? details = null)
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
            var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
            Assert.Equal(132000, error.GetProperty("code").GetInt32());
            if (details is not null)
            {
                // The server words a refused send's error from these details (MetaErrorMapping).
                Assert.Equal(details, error.GetProperty("error_data").GetProperty("details").GetString());
            }
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
    [InlineData("", 400, 132000)]                                                                              // the header's {{1}} not given
    [InlineData("""{"type":"header","parameters":[{"type":"image","image":{"link":"https://x.example/a.png"}}]},""", 400, 132012)] // a file for a text header
    [InlineData("""{"type":"header","parameters":[{"type":"text","text":"Diwali"}]},""", 200, null)]
    public async Task ATextHeadersPlaceholdersNeedTextParameters(string header, int status, int? code)
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
        if (code is not null)
        {
            Assert.Equal(code, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("code").GetInt32());
        }
    }

    [Theory]
    [InlineData("no_such_template", "en", 2, 132001, "template name (no_such_template) does not exist in en")]
    [InlineData("order_confirmation", "hi", 3, 132001, "template name (order_confirmation) does not exist in hi")] // another language
    [InlineData("order_confirmation", "en", 2, 132000, "body: number of localizable_params (2) does not match the expected number of params (3)")]
    [InlineData("order_confirmation", "en", 4, 132000, "body: number of localizable_params (4) does not match the expected number of params (3)")]
    public async Task ATemplateSendIsCheckedAgainstTheApprovedTemplate(string name, string language, int parameters, int code, string details)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var (client, phoneNumberId) = await MessagesClientAsync(tenant.BusinessId);
        var values = string.Join(",", Enumerable.Range(1, parameters).Select(i => $$"""{"type":"text","text":"v{{i}}"}"""));
        var body = $$$"""{"messaging_product":"whatsapp","to":"919876543210","type":"template","template":{"name":"{{{name}}}","language":{"code":"{{{language}}}"},"components":[{"type":"body","parameters":[{{{values}}}]}]}}""";

        var response = await client.PostAsync($"/sandbox/graph/v23.0/{phoneNumberId}/messages", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal((code, details), (error.GetProperty("code").GetInt32(), error.GetProperty("error_data").GetProperty("details").GetString()));
        // Numbered, as in ItsSendRefusesWhatMetaRefusesWithMetasCode.
        Assert.StartsWith($"(#{code}) ", error.GetProperty("message").GetString(), StringComparison.Ordinal);
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
