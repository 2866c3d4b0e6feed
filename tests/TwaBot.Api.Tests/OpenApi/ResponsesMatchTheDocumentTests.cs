using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;
using TwaBot.Api.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TwaBot.Api.Tests.OpenApi;

/// <summary>
/// The answers the server really gives, held to the OpenAPI document: each answer's status must be listed
/// for its operation, and its body must match the schema declared for that status (<see cref="ResponseContract"/>).
/// Every request goes through a handler that checks its answer; each test reports all mismatches at once.
/// </summary>
public class ResponsesMatchTheDocumentTests(TwaBotApiFactory factory, ITestOutputHelper output) : IClassFixture<TwaBotApiFactory>
{
    private const string Order = """{"phone":"919876543210","template_name":"order_confirmation","body_params":["Rahul","ORD-1","₹1,499"]}""";

    [Fact]
    public async Task EveryOperationAnswersAsTheDocumentSays()
    {
        var contract = await ContractAsync(factory);
        using var admin = Client(factory, contract, ("X-Admin-Key", TwaBotApiFactory.AdminKey));
        using var anonymous = Client(factory, contract);
        using var wrongAdmin = Client(factory, contract, ("X-Admin-Key", "not-the-admin-key"));

        await AdminBusinessesAsync(admin, anonymous, wrongAdmin);
        await AdminApiKeysAndSuppressionsAsync(admin);
        await AdminTemplatesAndSandboxAsync(contract, admin, anonymous);
        await SendsAsync(contract, anonymous);
        await WebhooksAsync(anonymous);
        // Requests the document has no operation for still answer in the envelope.
        await anonymous.GetAsync("/api/v1/no-such-thing");
        await anonymous.DeleteAsync("/api/v1/health");
        await anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Options, "/api/v1/send-template"));
        await admin.GetAsync("/admin/v1/businesses/all");

        var reached = contract.Covered.ToHashSet();
        output.WriteLine("Listed, not reached here: " + string.Join("; ", contract.Listed.Where(l => !reached.Contains(l))
            .GroupBy(l => l.Operation).Select(g => $"{g.Key} {string.Join(",", g.Select(l => l.Status))}")));
        Report(contract);
        // Every operation's success was among the answers checked, not only its errors.
        var succeeded = contract.Covered.Where(c => c.Status.StartsWith('2')).Select(c => c.Operation).ToHashSet(StringComparer.Ordinal);
        var unanswered = contract.Operations.Where(operation => !succeeded.Contains(operation)).ToList();
        Assert.True(unanswered.Count == 0, "No success checked for " + string.Join(", ", unanswered));
    }

    [Fact]
    public async Task TheDocumentsExamplesMatchTheirSchemas()
    {
        var mismatches = (await ContractAsync(factory)).CheckExamples();

        Assert.True(mismatches.Count == 0, $"{mismatches.Count} examples do not match their schemas:\n" + string.Join("\n", mismatches));
    }

    [Fact]
    public async Task EveryOperationAnswersOddRequestsAsTheDocumentSays()
    {
        var contract = await ContractAsync(factory);
        var tenant = await factory.CreateSendingTenantAsync();
        var templateId = 0L;
        await factory.WithDbAsync(async db => templateId = (await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.FirstAsync(
            db.Templates, t => t.BusinessId == tenant.BusinessId)).Id);
        using var admin = Client(factory, contract, ("X-Admin-Key", TwaBotApiFactory.AdminKey));
        using var api = Client(factory, contract, ("X-API-Key", tenant.Key));
        using var wrongAdmin = Client(factory, contract, ("X-Admin-Key", "not-the-admin-key"));
        using var wrongApi = Client(factory, contract, ("X-API-Key", "twb_live_" + new string('c', 32)));
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["{id}"] = tenant.BusinessId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["{keyId}"] = tenant.KeyId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["{templateId}"] = templateId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["{phone}"] = "919876500009",
            ["{messageId}"] = "wamid.x",
        };
        var nested = string.Concat(Enumerable.Repeat("{\"a\":", 100)) + "1" + new string('}', 100);
        string?[] bodies = ["", "null", "[]", "\"text\"", "{", nested, "{\"phone\":1e400,\"name\":1e400}", "{\"unknown_field\":1}"];

        foreach (var (operation, _) in contract.Listed.Distinct().Where(l => !l.Operation.Contains("/webhooks/", StringComparison.Ordinal)))
        {
            var method = new HttpMethod(operation.Split(' ')[0]);
            var template = operation.Split(' ')[1];
            var path = values.Aggregate(template, (p, v) => p.Replace(v.Key, v.Value, StringComparison.Ordinal));
            var (client, wrong) = template.StartsWith("/api/", StringComparison.Ordinal) ? (api, wrongApi) : (admin, wrongAdmin);
            var takesBody = method != HttpMethod.Get && method != HttpMethod.Delete && !template.EndsWith("/sync", StringComparison.Ordinal);

            await wrong.SendAsync(new HttpRequestMessage(method, path) { Content = takesBody ? Json("{}") : null });
            foreach (var odd in new[] { "0", "-1", "abc", "99999999999999999999", "%F0%9F%98%80", "%20" })
            {
                var oddPath = template.Contains('{', StringComparison.Ordinal)
                    ? values.Aggregate(template, (p, v) => p.Replace(v.Key, odd, StringComparison.Ordinal))
                    : null;
                if (oddPath is not null)
                {
                    await client.SendAsync(new HttpRequestMessage(method, oddPath) { Content = takesBody ? Json("{}") : null });
                }
            }

            if (!takesBody)
            {
                continue;
            }

            foreach (var body in bodies)
            {
                await client.SendAsync(new HttpRequestMessage(method, path) { Content = Json(body!) });
            }

            await client.SendAsync(new HttpRequestMessage(method, path) { Content = new StringContent("{}", Encoding.UTF8, "text/plain") });
            await client.SendAsync(new HttpRequestMessage(method, path) { Content = new StringContent("{}", Encoding.Latin1, "application/json") });
            await client.SendAsync(new HttpRequestMessage(method, path) { Content = new StringContent(new string(' ', 70_000) + "{}", Encoding.UTF8, "application/json") });
            var garbled = new ByteArrayContent([1, 2, 3, 4]);
            garbled.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            garbled.Headers.ContentEncoding.Add("gzip");
            await client.SendAsync(new HttpRequestMessage(method, path) { Content = garbled });
            var unknownEncoding = Json("{}");
            unknownEncoding.Headers.ContentEncoding.Add("compress");
            await client.SendAsync(new HttpRequestMessage(method, path) { Content = unknownEncoding });
            await client.SendAsync(new HttpRequestMessage(method, path));
        }

        Report(contract);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    [Fact]
    public async Task RateLimitedAnswersMatchTheDocument()
    {
        await using var limited = new TwaBotApiFactory(new Dictionary<string, string?>
        {
            ["TwaBot:RateLimits:PerKeyPerMinute"] = "2",
            ["TwaBot:RateLimits:FailedAuthPerMinute"] = "1",
        });
        var contract = await ContractAsync(limited);
        var tenant = await limited.CreateSendingTenantAsync();
        using var api = Client(limited, contract, ("X-API-Key", tenant.Key));
        using var wrongKey = Client(limited, contract, ("X-API-Key", "twb_live_" + new string('a', 32)));
        using var wrongAdmin = Client(limited, contract, ("X-Admin-Key", "not-the-admin-key"));

        for (var i = 0; i < 3; i++)
        {
            await api.GetAsync("/api/v1/health");
            await api.GetAsync("/api/v1/templates");
            await api.GetAsync("/api/v1/message-status/wamid.unknown");
            await Send(api, "/api/v1/send-template", Order);
            await api.GetAsync("/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=a,b,c");
            await wrongKey.GetAsync("/api/v1/health");
            await wrongAdmin.PostAsJsonAsync("/admin/v1/businesses", new { name = "Acme", plan = "Pro" });
            await wrongAdmin.GetAsync("/admin/v1/businesses/1");
            await wrongAdmin.PostAsJsonAsync("/sandbox/v1/inbound", new { business_id = tenant.BusinessId, from = "919876543210", text = "Hi" });
        }

        // Wrong admin keys from this address are over the limit by now: every admin operation answers 429.
        foreach (var operation in contract.Operations.Where(o => o.Contains(" /admin/", StringComparison.Ordinal)))
        {
            var path = operation.Split(' ')[1].Replace("{id}", "1", StringComparison.Ordinal).Replace("{keyId}", "1", StringComparison.Ordinal)
                .Replace("{templateId}", "1", StringComparison.Ordinal).Replace("{phone}", "919876543210", StringComparison.Ordinal);
            await wrongAdmin.SendAsync(new HttpRequestMessage(new HttpMethod(operation.Split(' ')[0]), path) { Content = Json("{}") });
        }

        Report(contract);
        Assert.Contains(("GET /api/v1/health", "429"), contract.Covered);
        Assert.Contains(("POST /sandbox/v1/inbound", "429"), contract.Covered);
    }

    [Fact]
    public async Task AChunkedBodyOverTheLimitAnswersAsTheDocumentSays()
    {
        // With no Content-Length, the size is known only while the body is read: after the key was checked and counted,
        // so the 413 carries the key's RateLimit headers, which the document must declare (it said refused first).
        await using var server = new TwaBotApiFactory();
        server.UseKestrel(0); // the in-memory server enforces no limit on a chunked body
        server.StartServer();
        var contract = await ContractAsync(server);
        var tenant = await server.CreateSendingTenantAsync();
        using var api = Client(server, contract, ("X-API-Key", tenant.Key));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/send-template")
        {
            Content = Json(Order.Replace("Rahul", new string('x', 70_000), StringComparison.Ordinal)),
        };
        request.Headers.TransferEncodingChunked = true;

        var response = await api.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.True(response.Headers.Contains("RateLimit"));
        Report(contract);
    }

    [Fact]
    public async Task AnswersWhenMetaFailsMatchTheDocument()
    {
        // The breaker opens after Meta's 5xx answers: 503 without a call.
        await using var server = new TwaBotApiFactory(new Dictionary<string, string?>
        {
            ["TwaBot:Meta:Resilience:BreakerMinimumThroughput"] = "2",
            ["TwaBot:Meta:Resilience:BreakerFailureRatio"] = "0.5",
            ["TwaBot:Meta:Resilience:MaxRetries"] = "0",
        });
        var contract = await ContractAsync(server);
        var tenant = await server.CreateSendingTenantAsync();
        using var api = Client(server, contract, ("X-API-Key", tenant.Key));

        for (var i = 0; i < 4; i++)
        {
            await Send(api, "/api/v1/send-template", Order.Replace("919876543210", "919876540500", StringComparison.Ordinal));
        }

        await Send(api, "/api/v1/send-otp", """{"phone":"919876543211","template_name":"otp_verification"}""");
        await api.GetAsync("/api/v1/quick-send?phone=919876543212&template=order_confirmation&params=a,b,c");

        Report(contract);
        Assert.Contains(("POST /api/v1/send-template", "503"), contract.Covered);
    }

    [Fact]
    public async Task ASendWhileAnotherProcessHoldsTheDatabaseGets503AndGoesOnceItIsFree()
    {
        // A sqlite3 shell left inside a transaction: the send waits the busy timeout, then is refused, retryable.
        // (The server's is 30 s, DatabaseTests holds it to that; here it is 2 s, the wait being no part of the answer.)
        await using var server = new ShortBusyWaitServer();
        var contract = await ContractAsync(server);
        var tenant = await server.CreateSendingTenantAsync();
        using var api = Client(server, contract, ("X-API-Key", tenant.Key));
        await using var otherProcess = await AnotherProcessLock.TakeAsync(server.DatabasePath);

        var send = await Send(api, "/api/v1/send-template", Order);
        await otherProcess.ReleaseAsync();

        var sendAfter = await Send(api, "/api/v1/send-template", Order);

        var refused = await send.AssertErrorAsync(HttpStatusCode.ServiceUnavailable, "STORAGE_UNAVAILABLE");
        Assert.Equal(5, refused.GetProperty("retry_after_seconds").GetInt32());
        Assert.Equal(["5"], send.Headers.GetValues("Retry-After"));
        await sendAfter.ReadJsonAsync(HttpStatusCode.OK);
        var rows = 0;
        await server.WithDbAsync(async db => rows = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.CountAsync(db.Messages));
        Assert.Equal(1, rows); // the refused send left no row and reached no one
        Report(contract);
        Assert.Contains(("POST /api/v1/send-template", "503"), contract.Covered);
    }

    [Fact]
    public async Task ASendWhoseKeyIsUnderWayAnswersAsTheDocumentSays()
    {
        await using var server = new FirstSendHeldAtMeta();
        var contract = await ContractAsync(server);
        var tenant = await server.CreateSendingTenantAsync();
        using var api = Client(server, contract, ("X-API-Key", tenant.Key));
        var key = Guid.NewGuid().ToString();

        var first = Send(api, "/api/v1/send-template", Order, key);
        await server.UnderWayAsync(); // the first has its row, and so its key, until it is let through
        await Send(api, "/api/v1/send-template", Order, key);
        server.Release.SetResult();
        await first;

        Report(contract);
        Assert.Contains(("POST /api/v1/send-template", "409"), contract.Covered);
    }

    [Fact]
    public async Task LiveModeAnswersMatchTheDocument()
    {
        await using var meta = await Meta.FakeMetaUpstream.StartAsync();
        await using var live = LiveMode.Against(meta, new Dictionary<string, string?> { ["TwaBot:Meta:Resilience:MaxRetries"] = "0" });
        var contract = await ContractAsync(live);
        using var admin = Client(live, contract, ("X-Admin-Key", TwaBotApiFactory.AdminKey));
        using var anonymous = Client(live, contract);
        var id = (await (await admin.PostAsJsonAsync("/admin/v1/businesses", new { name = "Live", plan = "Pro" })).ReadJsonAsync(HttpStatusCode.Created))
            .GetProperty("business").GetProperty("id").GetInt64();
        await admin.PutAsJsonAsync($"/admin/v1/businesses/{id}/whatsapp", new { sandbox = true });
        // Meta's check of the connect: a number the WABA does not list, Meta throttling, Meta failing, then the number listed.
        var connect = new { phone_number_id = "555000111222333", waba_id = "102290129340398", access_token = "live-token" };
        await admin.PutAsJsonAsync($"/admin/v1/businesses/{id}/whatsapp", connect);
        meta.ReplyToNumberList(Meta.FakeMetaUpstream.Error(400, 80007, "Rate limit issues"), Meta.FakeMetaUpstream.Json(502, "<html>Bad Gateway</html>"));
        await admin.PutAsJsonAsync($"/admin/v1/businesses/{id}/whatsapp", connect);
        await admin.PutAsJsonAsync($"/admin/v1/businesses/{id}/whatsapp", connect);
        meta.PhoneNumbers["555000111222333"] = "+1 555-000-1112";
        await admin.PutAsJsonAsync($"/admin/v1/businesses/{id}/whatsapp", connect);
        // The fake's other answers are a send's: template calls get an answer that is not theirs.
        await admin.PostAsJsonAsync($"/admin/v1/businesses/{id}/templates", Admin.TemplatesAdminTests.ShippingUpdate);
        await admin.PostAsync($"/admin/v1/businesses/{id}/templates/sync", null);
        await live.WithDbAsync(async db =>
        {
            db.Templates.AddRange(TwaBot.Api.Sandbox.SandboxSeeder.SeedTemplates(id, live.Clock.GetUtcNow().UtcDateTime));
            await db.SaveChangesAsync();
        });
        var (key, _) = await live.CreateApiKeyAsync(id);
        using var api = Client(live, contract, ("X-API-Key", key));

        await api.GetAsync("/api/v1/health");
        await api.GetAsync("/api/v1/templates");
        await Send(api, "/api/v1/send-template", Order);
        await api.GetAsync("/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=a,b,c");
        await Send(api, "/api/v1/send-text", """{"phone":"919876543210","message":"Hi"}""");
        await admin.PostAsJsonAsync("/sandbox/v1/inbound", new { business_id = id, from = "919876543210", text = "Hi" });
        await anonymous.GetAsync("/webhooks/meta?hub.mode=subscribe&hub.verify_token=live-verify-token&hub.challenge=7");
        await anonymous.GetAsync("/webhooks/meta?hub.mode=subscribe&hub.verify_token=twabot-sandbox-verify-token&hub.challenge=7");
        await anonymous.PostAsync("/webhooks/meta", Signed("""{"object":"whatsapp_business_account","entry":[]}""", "live-app-secret-0123"));
        await anonymous.PostAsync("/webhooks/meta", Signed("""{"object":"whatsapp_business_account","entry":[]}""", "not-the-secret"));

        Report(contract);
        Assert.Contains(("GET /api/v1/health", "200"), contract.Covered);
        Assert.Equal(["200", "400", "429", "502"],
            contract.Covered.Where(c => c.Operation == "PUT /admin/v1/businesses/{id}/whatsapp").Select(c => c.Status).Distinct().Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    [InlineData(HttpStatusCode.BadRequest)]
    public async Task AdminTemplateCallsAnswerAsTheDocumentSaysWhenMetaFails(HttpStatusCode metaAnswers)
    {
        await using var server = new MetaAnswersFactory(metaAnswers);
        var contract = await ContractAsync(server);
        var businessId = await server.CreateBusinessAsync();
        await server.ConnectWhatsAppAsync(businessId);
        using var admin = Client(server, contract, ("X-Admin-Key", TwaBotApiFactory.AdminKey));

        for (var i = 0; i < 6; i++) // Meta's failures open the breaker: 503
        {
            await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/templates", Admin.TemplatesAdminTests.ShippingUpdate);
            await admin.PostAsync($"/admin/v1/businesses/{businessId}/templates/sync", null);
        }

        Report(contract);
    }

    private static async Task AdminBusinessesAsync(HttpClient admin, HttpClient anonymous, HttpClient wrongAdmin)
    {
        var created = await admin.PostAsJsonAsync("/admin/v1/businesses", new { name = "Acme Stores", plan = "Pro", time_zone = "Asia/Kolkata" });
        var id = (await created.ReadJsonAsync(HttpStatusCode.Created)).GetProperty("business").GetProperty("id").GetInt64();
        await admin.PostAsJsonAsync("/admin/v1/businesses", new { name = "No plan" });
        await admin.PostAsJsonAsync("/admin/v1/businesses", new { name = "Acme", plan = "Pro", colour = "red" });
        await anonymous.PostAsJsonAsync("/admin/v1/businesses", new { name = "Acme", plan = "Pro" });
        await wrongAdmin.PostAsJsonAsync("/admin/v1/businesses", new { name = "Acme", plan = "Pro" });
        await admin.PostAsync("/admin/v1/businesses", new StringContent("name=Acme&plan=Pro", Encoding.UTF8, "application/x-www-form-urlencoded"));
        await admin.PostAsync("/admin/v1/businesses", new StringContent("{not json", Encoding.UTF8, "application/json"));
        await admin.PostAsync("/admin/v1/businesses", new StringContent($"{{\"name\":\"{new string('a', 70_000)}\",\"plan\":\"Pro\"}}", Encoding.UTF8, "application/json"));

        await admin.GetAsync($"/admin/v1/businesses/{id}");
        await admin.GetAsync("/admin/v1/businesses");
        await wrongAdmin.GetAsync("/admin/v1/businesses");
        await admin.GetAsync("/admin/v1/businesses/999999");
        await wrongAdmin.GetAsync($"/admin/v1/businesses/{id}");
        await admin.PatchAsJsonAsync($"/admin/v1/businesses/{id}", new { name = "Acme Stores Ltd" });
        await admin.PatchAsJsonAsync($"/admin/v1/businesses/{id}", new { plan = "Gold" });
        await admin.PatchAsJsonAsync("/admin/v1/businesses/999999", new { name = "Nobody" });
        await admin.PatchAsync($"/admin/v1/businesses/{id}", new StringContent("name=x", Encoding.UTF8, "text/plain"));

        await admin.PutAsJsonAsync($"/admin/v1/businesses/{id}/whatsapp", new { sandbox = true });
        await admin.PutAsJsonAsync($"/admin/v1/businesses/{id}/whatsapp", new { phone_number_id = "abc", waba_id = "1", access_token = "t" });
        await admin.PutAsJsonAsync("/admin/v1/businesses/999999/whatsapp", new { sandbox = true });
        var other = await (await admin.PostAsJsonAsync("/admin/v1/businesses", new { name = "Other", plan = "Growth" })).ReadJsonAsync(HttpStatusCode.Created);
        var otherId = other.GetProperty("business").GetProperty("id").GetInt64();
        var third = await (await admin.PostAsJsonAsync("/admin/v1/businesses", new { name = "Third", plan = "Starter" })).ReadJsonAsync(HttpStatusCode.Created);
        var number = new { phone_number_id = "555000111222333", waba_id = "1", access_token = "token-one" };
        await admin.PutAsJsonAsync($"/admin/v1/businesses/{otherId}/whatsapp", number);
        await admin.PutAsJsonAsync($"/admin/v1/businesses/{third.GetProperty("business").GetProperty("id").GetInt64()}/whatsapp", number);
        await admin.DeleteAsync($"/admin/v1/businesses/{otherId}/whatsapp");
        await admin.DeleteAsync("/admin/v1/businesses/999999/whatsapp");
    }

    private static async Task AdminApiKeysAndSuppressionsAsync(HttpClient admin)
    {
        var id = (await (await admin.PostAsJsonAsync("/admin/v1/businesses", new { name = "Keys", plan = "Growth" })).ReadJsonAsync(HttpStatusCode.Created))
            .GetProperty("business").GetProperty("id").GetInt64();

        var created = await admin.PostAsJsonAsync($"/admin/v1/businesses/{id}/api-keys",
            new { name = "My CRM", permissions = new[] { "send_template", "send_text" }, per_minute_limit = 60, daily_limit = (int?)null, expires_at = (string?)null });
        var keyId = (await created.ReadJsonAsync(HttpStatusCode.Created)).GetProperty("api_key").GetProperty("id").GetInt64();
        await admin.PostAsJsonAsync($"/admin/v1/businesses/{id}/api-keys", new { name = "No permissions" });
        await admin.PostAsJsonAsync($"/admin/v1/businesses/{id}/api-keys", new { name = "Bad", permissions = new[] { "fly" } });
        await admin.PostAsJsonAsync("/admin/v1/businesses/999999/api-keys", new { name = "Nobody", permissions = new[] { "*" } });
        await admin.GetAsync($"/admin/v1/businesses/{id}/api-keys");
        await admin.GetAsync("/admin/v1/businesses/999999/api-keys");
        await admin.GetAsync($"/admin/v1/api-keys/{keyId}");
        await admin.GetAsync("/admin/v1/api-keys/999999");
        await admin.PatchAsJsonAsync($"/admin/v1/api-keys/{keyId}", new { daily_limit = 5, expires_at = "2027-01-01T00:00:00Z" });
        await admin.PatchAsJsonAsync($"/admin/v1/api-keys/{keyId}", new { daily_limit = -1 });
        await admin.PatchAsJsonAsync("/admin/v1/api-keys/999999", new { name = "x" });
        await admin.DeleteAsync($"/admin/v1/api-keys/{keyId}");
        await admin.DeleteAsync($"/admin/v1/api-keys/{keyId}");
        await admin.DeleteAsync("/admin/v1/api-keys/999999");

        var suppressions = $"/admin/v1/businesses/{id}/suppressions";
        await admin.PostAsJsonAsync(suppressions, new { phone = "919876500001", state = "opted_out", reason = "Asked to stop" });
        await admin.PostAsJsonAsync(suppressions, new { phone = "919876500001", state = "blocked" });
        await admin.PostAsJsonAsync(suppressions, new { phone = "919876500002", state = "undeliverable" });
        await admin.PostAsJsonAsync(suppressions, new { phone = "919876500003", state = "angry" });
        await admin.PostAsJsonAsync("/admin/v1/businesses/999999/suppressions", new { phone = "919876500003", state = "blocked" });
        await admin.PostAsJsonAsync($"{suppressions}/import", new { suppressions = new[] { new { phone = "919876500002", state = "blocked" }, new { phone = "919876500004", state = "opted_out" } } });
        await admin.PostAsJsonAsync($"{suppressions}/import", new { suppressions = new[] { new { phone = "919876500004", state = "annoyed" } } });
        await admin.PostAsJsonAsync("/admin/v1/businesses/999999/suppressions/import", new { suppressions = new[] { new { phone = "919876500004", state = "blocked" } } });
        await admin.GetAsync($"{suppressions}?limit=1");
        await admin.GetAsync($"{suppressions}?state=opted_out&after=919876500001");
        await admin.GetAsync($"{suppressions}?limit=0");
        await admin.GetAsync("/admin/v1/businesses/999999/suppressions");
        await admin.GetAsync($"{suppressions}/919876500001");
        await admin.GetAsync($"{suppressions}/919876500002");
        await admin.GetAsync($"{suppressions}/919876599999");
        await admin.GetAsync($"{suppressions}/not-a-phone");
        await admin.DeleteAsync($"{suppressions}/919876500001");
        await admin.DeleteAsync($"{suppressions}/919876500001");
        await admin.DeleteAsync($"{suppressions}/x");
    }

    private async Task AdminTemplatesAndSandboxAsync(ResponseContract contract, HttpClient admin, HttpClient anonymous)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        var templates = $"/admin/v1/businesses/{tenant.BusinessId}/templates";
        var created = await (await admin.PostAsJsonAsync(templates, Admin.TemplatesAdminTests.ShippingUpdate)).ReadJsonAsync(HttpStatusCode.Created);
        await admin.PostAsJsonAsync(templates, Admin.TemplatesAdminTests.ShippingUpdate);
        await admin.PostAsJsonAsync(templates, new { name = "Bad Name", language = "en", category = "UTILITY", body = "Hi" });
        await admin.PostAsJsonAsync("/admin/v1/businesses/999999/templates", Admin.TemplatesAdminTests.ShippingUpdate);
        await admin.GetAsync($"{templates}/{created.GetProperty("template").GetProperty("id").GetInt64()}");
        await admin.GetAsync($"{templates}/999999");
        await admin.GetAsync(templates);
        await admin.GetAsync("/admin/v1/businesses/999999/templates");
        await admin.PostAsync($"{templates}/sync", null);
        await admin.PostAsync("/admin/v1/businesses/999999/templates/sync", null);
        var unconnected = await factory.CreateBusinessAsync();
        await admin.PostAsync($"/admin/v1/businesses/{unconnected}/templates/sync", null);
        await admin.PostAsJsonAsync($"/admin/v1/businesses/{unconnected}/templates", Admin.TemplatesAdminTests.ShippingUpdate);
        using (var api = Client(factory, contract, ("X-API-Key", tenant.Key)))
        {
            await api.GetAsync("/api/v1/templates"); // with the template created here, header and all
        }

        await admin.PostAsJsonAsync("/sandbox/v1/inbound", new { business_id = tenant.BusinessId, from = "919876543210", text = "Hi", name = "Rahul" });
        await admin.PostAsJsonAsync("/sandbox/v1/inbound", new { business_id = tenant.BusinessId, from = "919876543210" });
        await admin.PostAsJsonAsync("/sandbox/v1/inbound", new { business_id = 999999, from = "919876543210", text = "Hi" });
        await admin.PostAsJsonAsync("/sandbox/v1/inbound", new { business_id = unconnected, from = "919876543210", text = "Hi" });
        await admin.PostAsync("/sandbox/v1/inbound", new StringContent("from=1", Encoding.UTF8, "text/plain"));
        await anonymous.PostAsJsonAsync("/sandbox/v1/inbound", new { business_id = tenant.BusinessId, from = "919876543210", text = "Hi" });
    }

    private async Task SendsAsync(ResponseContract contract, HttpClient anonymous)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var api = Client(factory, contract, ("X-API-Key", tenant.Key));
        using var wrongKey = Client(factory, contract, ("X-API-Key", "twb_live_" + new string('b', 32)));
        await api.GetAsync("/api/v1/health");
        await api.GetAsync("/api/v1/templates");
        await anonymous.GetAsync("/api/v1/health");
        await anonymous.GetAsync("/api/v1/templates");
        await wrongKey.GetAsync("/api/v1/health");
        await anonymous.GetAsync("/api/v1/message-status/wamid.x");

        // Successes, then their statuses as they settle (0000: failed, with a reason).
        var sent = await (await Send(api, "/api/v1/send-template", Order)).ReadJsonAsync(HttpStatusCode.OK);
        var failing = await (await Send(api, "/api/v1/send-template", Order.Replace("919876543210", "919876540000", StringComparison.Ordinal))).ReadJsonAsync(HttpStatusCode.OK);
        await api.GetAsync($"/api/v1/message-status/{sent.GetProperty("message_id").GetString()}");
        await factory.SettleStatusesAsync();
        await api.GetAsync($"/api/v1/message-status/{sent.GetProperty("message_id").GetString()}");
        await api.GetAsync($"/api/v1/message-status/{failing.GetProperty("message_id").GetString()}");
        await Send(api, "/api/v1/send-otp", """{"phone":"919876543210","template_name":"otp_verification"}""");
        await Send(api, "/api/v1/send-otp", """{"phone":"919876543210","template_name":"otp_verification","otp":"123456"}""");
        await api.GetAsync("/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=Rahul,ORD-1,100");
        await anonymous.GetAsync($"/api/v1/quick-send?apikey={tenant.Key}&phone=919876543210&template=order_confirmation&params=Rahul,ORD-1,100");
        await anonymous.GetAsync("/api/v1/quick-send?apikey=twb_live_nope&phone=919876543210&template=order_confirmation");

        // The window: closed, then open.
        await Send(api, "/api/v1/send-text", """{"phone":"919876543220","message":"Hi"}""");
        await Send(api, "/api/v1/send-media", """{"phone":"919876543220","media_type":"image","media_url":"https://example.com/a.png"}""");
        await api.GetAsync("/api/v1/quick-send?phone=919876543220&message=Hi");
        await factory.CustomerWritesAsync(tenant.BusinessId, "919876543220");
        await Send(api, "/api/v1/send-text", """{"phone":"919876543220","message":"Hi"}""");
        await Send(api, "/api/v1/send-media", """{"phone":"919876543220","media_type":"document","media_url":"https://example.com/a.pdf","filename":"a.pdf"}""");
        await api.GetAsync("/api/v1/quick-send?phone=919876543220&message=Hi");

        // Meta's refusals and failures.
        foreach (var suffix in new[] { "0047", "0429", "0500" })
        {
            var phone = "91987654" + suffix;
            await Send(api, "/api/v1/send-template", Order.Replace("919876543210", phone, StringComparison.Ordinal));
            await Send(api, "/api/v1/send-otp", $$"""{"phone":"{{phone}}","template_name":"otp_verification"}""");
            await api.GetAsync($"/api/v1/quick-send?phone={phone}&template=order_confirmation&params=a,b,c");
        }

        foreach (var suffix in new[] { "0429", "0500" })
        {
            var phone = "91987655" + suffix; // a window open, so that Meta's answer is what decides
            await factory.CustomerWritesAsync(tenant.BusinessId, phone);
            await Send(api, "/api/v1/send-text", $$"""{"phone":"{{phone}}","message":"Hi"}""");
            await Send(api, "/api/v1/send-media", $$"""{"phone":"{{phone}}","media_type":"image","media_url":"https://example.com/a.png"}""");
            await api.GetAsync($"/api/v1/quick-send?phone={phone}&message=Hi");
        }

        var unknown = await Send(api, "/api/v1/send-template", Order.Replace("919876543210", "919876550500", StringComparison.Ordinal));
        await api.GetAsync($"/api/v1/message-status/{(await unknown.ReadJsonAsync(HttpStatusCode.BadGateway)).GetProperty("message_id").GetString()}");
        await api.GetAsync("/api/v1/message-status/wamid.unknown");
        await api.GetAsync("/api/v1/message-status/twb:abc");
        await api.GetAsync("/api/v1/message-status/%20");

        // Refused requests.
        foreach (var path in new[] { "/api/v1/send-template", "/api/v1/send-text", "/api/v1/send-media", "/api/v1/send-otp" })
        {
            await Send(api, path, "{}");
            await Send(api, path, """{"phone":"12","template_name":"order_confirmation","message":"x","media_type":"gif","media_url":"ftp://x"}""");
            await Send(api, path, "{not json");
            await api.PostAsync(path, new StringContent("phone=919876543210", Encoding.UTF8, "application/x-www-form-urlencoded"));
            await api.PostAsync(path, new StringContent($"{{\"phone\":\"{new string('1', 70_000)}\"}}", Encoding.UTF8, "application/json"));
            await anonymous.PostAsync(path, new StringContent(Order, Encoding.UTF8, "application/json"));
            await api.GetAsync(path); // 405
        }

        await Send(api, "/api/v1/send-template", Order.Replace("order_confirmation", "wrong_name", StringComparison.Ordinal));
        await api.GetAsync("/api/v1/quick-send?template=order_confirmation");
        await api.GetAsync("/api/v1/quick-send?phone=919876543210");
        await api.GetAsync("/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=a");

        // 422: an Idempotency-Key used for another request.
        var key = Guid.NewGuid().ToString();
        await Send(api, "/api/v1/send-template", Order, key);
        await Send(api, "/api/v1/send-template", Order, key);
        await Send(api, "/api/v1/send-template", Order.Replace("ORD-1", "ORD-2", StringComparison.Ordinal), key);
        await Send(api, "/api/v1/send-otp", """{"phone":"919876543210","template_name":"otp_verification"}""", key);
        await api.GetAsync($"/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=a,b,c&idempotency_key={key}");
        await Send(api, "/api/v1/send-template", Order, new string('k', 300));
        await api.GetAsync($"/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=a,b,c&idempotency_key={new string('k', 300)}");
        await api.GetAsync($"/api/v1/health?apikey={tenant.Key}");

        // 403: a permission the key lacks, a suppressed number, a plan without sends.
        var (narrowKey, _) = await factory.CreateApiKeyAsync(tenant.BusinessId, ["send_template"]);
        using var narrow = Client(factory, contract, ("X-API-Key", narrowKey));
        await Send(narrow, "/api/v1/send-text", """{"phone":"919876543220","message":"Hi"}""");
        await Send(narrow, "/api/v1/send-media", """{"phone":"919876543220","media_type":"image","media_url":"https://example.com/a.png"}""");
        await Send(narrow, "/api/v1/send-otp", """{"phone":"919876543210","template_name":"otp_verification"}""");
        await narrow.GetAsync("/api/v1/quick-send?phone=919876543220&message=Hi");
        using (var admin = Client(factory, contract, ("X-Admin-Key", TwaBotApiFactory.AdminKey)))
        {
            await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions", new { phone = "919876543230", state = "opted_out" });
        }

        await Send(api, "/api/v1/send-template", Order.Replace("919876543210", "919876543230", StringComparison.Ordinal));
        await api.GetAsync("/api/v1/quick-send?phone=919876543230&template=order_confirmation&params=a,b,c");
        var starter = await factory.CreateSendingTenantAsync("Starter");
        using var starterApi = Client(factory, contract, ("X-API-Key", starter.Key));
        await Send(starterApi, "/api/v1/send-template", Order);
        await starterApi.GetAsync("/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=a,b,c");
        await starterApi.GetAsync("/api/v1/health");

        // 429: the day's cap.
        var growth = await factory.CreateSendingTenantAsync("Growth");
        await factory.AdminPatchAsync($"/admin/v1/api-keys/{growth.KeyId}", new { daily_limit = 1 });
        using var capped = Client(factory, contract, ("X-API-Key", growth.Key));
        await Send(capped, "/api/v1/send-template", Order);
        await Send(capped, "/api/v1/send-template", Order);
        await Send(capped, "/api/v1/send-otp", """{"phone":"919876543210","template_name":"otp_verification"}""");
        await capped.GetAsync("/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=a,b,c");

        // Keys revoked or expired, and URLs as CRMs put them together (repeated and trailing slashes).
        var (revoked, revokedId) = await factory.CreateApiKeyAsync(tenant.BusinessId);
        var (expiring, expiringId) = await factory.CreateApiKeyAsync(tenant.BusinessId);
        await factory.AdminPatchAsync($"/admin/v1/api-keys/{expiringId}", new { expires_at = factory.Clock.GetUtcNow().AddMinutes(1).UtcDateTime });
        using (var admin = factory.CreateAdminClient())
        {
            (await admin.DeleteAsync($"/admin/v1/api-keys/{revokedId}")).EnsureSuccessStatusCode();
        }

        factory.Clock.Advance(TimeSpan.FromMinutes(2));
        foreach (var gone in new[] { revoked, expiring })
        {
            using var client = Client(factory, contract, ("X-API-Key", gone));
            await client.GetAsync("/api/v1/health");
            await Send(client, "/api/v1/send-template", Order);
        }

        await api.GetAsync("//api/v1/health");
        await api.GetAsync("/api/v1/templates/");
        await Send(api, "/api//send-text", """{"phone":"919876543220","message":"Hi"}""");

        // No WhatsApp connection.
        var (_, _, bareKey) = await factory.CreateTenantAsync();
        using var bare = Client(factory, contract, ("X-API-Key", bareKey));
        await bare.GetAsync("/api/v1/health");
        await bare.GetAsync("/api/v1/templates");
        await Send(bare, "/api/v1/send-template", Order);
    }

    private async Task WebhooksAsync(HttpClient anonymous)
    {
        await anonymous.GetAsync("/webhooks/meta?hub.mode=subscribe&hub.verify_token=twabot-sandbox-verify-token&hub.challenge=1158201444");
        await anonymous.GetAsync("/webhooks/meta?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1");
        await anonymous.GetAsync("/webhooks/meta");
        var body = """{"object":"whatsapp_business_account","entry":[]}""";
        await anonymous.PostAsync("/webhooks/meta", Signed(body, factory.AppSecret));
        await anonymous.PostAsync("/webhooks/meta", Signed(body, "not-the-secret"));
        await anonymous.PostAsync("/webhooks/meta", new StringContent(body, Encoding.UTF8, "application/json"));
        await anonymous.PostAsync("/webhooks/meta", Signed(new string(' ', 3 * 1024 * 1024 + 10), factory.AppSecret));
        await anonymous.GetAsync("/webhooks/meta?hub.mode=subscribe&hub.verify_token=twabot-sandbox-verify-token");
    }

    private static StringContent Signed(string body, string secret)
    {
        var content = new StringContent(body, Encoding.UTF8, "application/json");
        content.Headers.Add(TwaBot.Api.Webhooks.WebhookSignature.HeaderName, TwaBot.Api.Webhooks.WebhookSignature.Sign(Encoding.UTF8.GetBytes(body), secret));
        return content;
    }

    private static async Task<HttpResponseMessage> Send(HttpClient client, string path, string json, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        return await client.SendAsync(request);
    }

    private void Report(ResponseContract contract)
    {
        foreach (var group in contract.Covered.GroupBy(c => c.Operation).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"{group.Key}: {string.Join(", ", group.Select(c => c.Status).Order(StringComparer.Ordinal))}");
        }

        var mismatches = contract.Mismatches.Distinct(StringComparer.Ordinal).ToList();
        Assert.True(mismatches.Count == 0, $"{mismatches.Count} answers do not match the OpenAPI document:\n" + string.Join("\n", mismatches));
    }

    private static async Task<ResponseContract> ContractAsync(TwaBotApiFactory server)
    {
        using var client = server.CreateClient();
        return new ResponseContract(await (await client.GetAsync("/swagger/v1/swagger.json")).ReadJsonAsync(HttpStatusCode.OK));
    }

    private static HttpClient Client(TwaBotApiFactory server, ResponseContract contract, params (string Name, string Value)[] headers)
    {
        var client = server.CreateDefaultClient(new ChecksAnswers(contract));
        foreach (var (name, value) in headers)
        {
            client.DefaultRequestHeaders.Add(name, value);
        }

        return client;
    }

    /// <summary>Holds every answer that passes through it to the document.</summary>
    private sealed class ChecksAnswers(ResponseContract contract) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (request.Method != HttpMethod.Head)
            {
                await response.Content.LoadIntoBufferAsync(cancellationToken);
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                var headers = response.Headers.Concat(response.Content.Headers)
                    .ToDictionary(h => h.Key, h => string.Join(", ", h.Value), StringComparer.OrdinalIgnoreCase);
                contract.Check(request.Method.Method, request.RequestUri!.AbsolutePath, (int)response.StatusCode,
                    body.Length == 0 ? null : response.Content.Headers.ContentType?.MediaType, body, headers);
            }

            return response;
        }
    }

    /// <summary>A sandbox server whose calls to Meta's template endpoints all get <c>metaAnswers</c>.</summary>
    private sealed class MetaAnswersFactory(HttpStatusCode metaAnswers)
        : TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:Meta:Resilience:MaxRetries"] = "0" })
    {
        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services => services.AddSingleton<IConfigureOptions<HttpClientFactoryOptions>>(
                new ConfigureNamedOptions<HttpClientFactoryOptions>(null, options => options.HttpMessageHandlerBuilderActions.Add(handlers =>
                {
                    if (handlers.Name?.Contains("Meta", StringComparison.Ordinal) == true)
                    {
                        handlers.AdditionalHandlers.Add(new TemplatesFail(metaAnswers)); // innermost: the resilience handlers see its answers
                    }
                }))));
        }
    }

    private sealed class TemplatesFail(HttpStatusCode status) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            request.RequestUri!.AbsolutePath.Contains("message_templates", StringComparison.Ordinal)
                ? Task.FromResult(new HttpResponseMessage(status)
                {
                    // 80007: the business account's rate limit (Meta's code for throttling on these endpoints).
                    Content = new StringContent($$$"""{"error":{"message":"Failed","type":"OAuthException","code":{{{(status == HttpStatusCode.TooManyRequests ? 80007 : 2)}}},"fbtrace_id":"x"}}""",
                        Encoding.UTF8, "application/json"),
                })
                : base.SendAsync(request, cancellationToken);
    }
}
