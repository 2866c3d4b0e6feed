using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using TwaBot.Api.Metrics;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Tests.Meta;
using TwaBot.Api.Tests.Webhooks;

namespace TwaBot.Api.Tests.Stories;

/// <summary>
/// One operator's first week with one CRM, against a scripted live Meta, following README's Going live and
/// docs/operations.md step by step: what the CRM and the operator see at each step.
/// </summary>
public class OperatorWeekTests
{
    private const string PhoneNumberId = "106540352242922";
    private const string WabaId = MetaPayloads.WabaId;
    private const string FirstToken = "EAAGoperatorWeekFirstToken0123456789";
    private const string SecondToken = "EAAGoperatorWeekSecondToken0123456789";
    private const string Rahul = "919876543210";
    private const string Priya = "919876543211";
    private const string PriyaNewNumber = "919876543299";

    // What Meta lists for the WABA: buttons of every kind, a text header, two languages, one paused, one rejected.
    private const string MetaTemplates = """
        {"data":[
          {"name":"order_confirmation","language":"en","status":"APPROVED","category":"UTILITY","id":"9001","components":[
            {"type":"HEADER","format":"TEXT","text":"Order {{1}}","example":{"header_text":["ORD-1"]}},
            {"type":"BODY","text":"Hi {{1}}, your order {{2}} of {{3}} is confirmed."},
            {"type":"FOOTER","text":"Acme Retail"},
            {"type":"BUTTONS","buttons":[
              {"type":"URL","text":"Track order","url":"https://shop.example/track/{{1}}","example":["https://shop.example/track/ORD-1"]},
              {"type":"PHONE_NUMBER","text":"Call us","phone_number":"+15550001111"},
              {"type":"QUICK_REPLY","text":"Stop"}]}]},
          {"name":"order_confirmation","language":"hi","status":"APPROVED","category":"UTILITY","id":"9002","components":[
            {"type":"BODY","text":"नमस्ते {{1}}, आपका ऑर्डर {{2}} ({{3}}) पक्का है।"}]},
          {"name":"festive_offer","language":"en","status":"APPROVED","category":"MARKETING","id":"9003","components":[
            {"type":"BODY","text":"Use the code below, {{1}}."},
            {"type":"BUTTONS","buttons":[{"type":"COPY_CODE","example":"SAVE20"},{"type":"QUICK_REPLY","text":"Stop promotions"}]}]},
          {"name":"login_code","language":"en","status":"APPROVED","category":"AUTHENTICATION","id":"9004","components":[
            {"type":"BODY","text":"*{{1}}* is your verification code."},
            {"type":"BUTTONS","buttons":[{"type":"OTP","otp_type":"COPY_CODE","text":"Copy code"}]}]},
          {"name":"spring_sale","language":"en","status":"PAUSED","category":"MARKETING","id":"9005","components":[
            {"type":"BODY","text":"Spring sale, {{1}}!"}]},
          {"name":"winter_sale","language":"en","status":"REJECTED","rejected_reason":"INVALID_FORMAT","category":"MARKETING","id":"9006","components":[
            {"type":"BODY","text":"Winter sale {{1}}"}]}]}
        """;

    [Fact]
    public async Task AnOperatorsFirstWeekGoesAsTheDocsSay()
    {
        await using var meta = await FakeMetaUpstream.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["TwaBot:Meta:Resilience:RetryBaseDelayMilliseconds"] = "10",
            ["TwaBot:Meta:Resilience:AttemptTimeoutSeconds"] = "1",
            ["TwaBot:Meta:Resilience:TotalTimeoutSeconds"] = "3",
        };
        var server = LiveMode.Against(meta, settings);
        server.DeleteDatabaseOnDispose = false;
        var databasePath = server.DatabasePath;
        try
        {
            using var admin = server.CreateAdminClient();
            using var sendCounts = new MetricCollector<long>(server.Services.GetRequiredService<IMeterFactory>(), TwaBotMetrics.MeterName, "twabot.sends");
            using var metaCounts = new MetricCollector<long>(server.Services.GetRequiredService<IMeterFactory>(), TwaBotMetrics.MeterName, "twabot.meta.calls");

            // Day 1, step 1: a Growth business in Europe/Berlin, connected, with a key and Meta's templates.
            var created = await (await admin.PostAsJsonAsync("/admin/v1/businesses",
                new { name = "Acme Retail", plan = "Growth", time_zone = "Europe/Berlin" })).ReadJsonAsync(HttpStatusCode.Created);
            var businessId = created.GetProperty("business").GetProperty("id").GetInt64();
            Assert.Equal("Europe/Berlin", created.GetProperty("business").GetProperty("time_zone").GetString());

            var connected = await (await admin.PutAsJsonAsync($"/admin/v1/businesses/{businessId}/whatsapp",
                new { phone_number_id = PhoneNumberId, waba_id = WabaId, access_token = FirstToken })).ReadJsonAsync(HttpStatusCode.OK);
            var whatsapp = connected.GetProperty("business").GetProperty("whatsapp");
            Assert.True(whatsapp.GetProperty("connected").GetBoolean());
            Assert.Equal(FakeMetaUpstream.DisplayPhoneNumber, whatsapp.GetProperty("display_phone_number").GetString());
            Assert.Equal($"Bearer {FirstToken}", Assert.Single(meta.NumberListCalls).Authorization);
            Assert.DoesNotContain(FirstToken, connected.GetRawText(), StringComparison.Ordinal);

            var keyCreated = await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/api-keys",
                new { name = "CRM", permissions = new[] { "send_template", "send_text", "send_otp" } })).ReadJsonAsync(HttpStatusCode.Created);
            var key = keyCreated.GetProperty("api_key").GetProperty("key").GetString()!;
            var keyId = keyCreated.GetProperty("api_key").GetProperty("id").GetInt64();
            Assert.StartsWith("twb_live_", key, StringComparison.Ordinal);
            using var crm = server.CreateApiClient(key);
            var health = await (await crm.GetAsync("/api/v1/health")).ReadJsonAsync(HttpStatusCode.OK);
            Assert.Equal(("live", true), (health.GetProperty("mode").GetString(), health.GetProperty("whatsapp_connected").GetBoolean()));

            meta.Reply(FakeMetaUpstream.Json(200, MetaTemplates));
            var synced = await (await admin.PostAsync($"/admin/v1/businesses/{businessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);
            Assert.Equal((6, 6, 0, 0), (synced.GetProperty("total").GetInt32(), synced.GetProperty("created").GetInt32(),
                synced.GetProperty("updated").GetInt32(), synced.GetProperty("removed").GetInt32()));
            Assert.Equal($"Bearer {FirstToken}", Assert.Single(meta.Calls).Authorization);
            meta.Calls.Clear();

            // The CRM sees the approved ones only; the operator sees all six, with why two cannot be sent.
            var approved = await (await crm.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK);
            Assert.Equal(["festive_offer/en", "login_code/en", "order_confirmation/en", "order_confirmation/hi"],
                approved.GetProperty("templates").EnumerateArray()
                    .Select(t => $"{t.GetProperty("name").GetString()}/{t.GetProperty("language").GetString()}").Order(StringComparer.Ordinal));
            var all = (await (await admin.GetAsync($"/admin/v1/businesses/{businessId}/templates")).ReadJsonAsync(HttpStatusCode.OK))
                .GetProperty("templates").EnumerateArray().ToList();
            Assert.Equal(6, all.Count);
            var rejected = all.Single(t => t.GetProperty("name").GetString() == "winter_sale");
            Assert.Equal(("REJECTED", "INVALID_FORMAT"), (rejected.GetProperty("status").GetString(), rejected.GetProperty("status_reason").GetString()));
            var order = all.Single(t => t.GetProperty("name").GetString() == "order_confirmation" && t.GetProperty("language").GetString() == "en");
            Assert.Equal(["url_suffix", "none", "none"], order.GetProperty("buttons").EnumerateArray().Select(b => b.GetString()));
            var paused = await crm.PostAsJsonAsync("/api/v1/send-template", new { phone = Rahul, template_name = "spring_sale", body_params = new[] { "Rahul" } });
            var pausedError = await paused.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
            Assert.Contains("PAUSED", pausedError.GetProperty("hint").GetString(), StringComparison.Ordinal);
            Assert.Empty(meta.Calls);

            // A template created through the admin API, approved later by Meta's template-status webhook.
            meta.Reply(FakeMetaUpstream.Json(200, """{"id":"9007","status":"PENDING","category":"UTILITY"}"""));
            var submitted = await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/templates", new
            {
                name = "delivery_update", language = "en", category = "UTILITY", body = "Hi {{1}}, your parcel arrives {{2}}.",
                variables = new[] { "Rahul", "today" },
            })).ReadJsonAsync(HttpStatusCode.Created);
            Assert.Equal("PENDING", submitted.GetProperty("template").GetProperty("status").GetString());
            meta.Calls.Clear();
            await DeliverAsync(server, MetaPayloads.Delivery(MetaPayloads.Entry(WabaId, MetaPayloads.TemplateStatus("APPROVED", "delivery_update", "en", 9007))));
            approved = await (await crm.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK);
            Assert.Contains(approved.GetProperty("templates").EnumerateArray(), t => t.GetProperty("name").GetString() == "delivery_update");

            // Step 2: the CRM sends every kind. A template with its header and link parameters, under an Idempotency-Key.
            meta.Reply(FakeMetaUpstream.Accepted("wamid.order-1"));
            var orderSend = new { phone = "98765 43210", template_name = "order_confirmation", header_params = new[] { "ORD-7" },
                body_params = new[] { "Rahul", "ORD-7", "€49" }, button_params = new[] { "ORD-7" } };
            var first = await SendAsync(crm, "/api/v1/send-template", orderSend, "crm-order-7");
            Assert.Equal(("wamid.order-1", Rahul), (first.GetProperty("message_id").GetString(), first.GetProperty("phone").GetString()));
            var call = Assert.Single(meta.Calls);
            Assert.Equal($"/v23.0/{PhoneNumberId}/messages", call.PathAndQuery);
            var components = JsonDocument.Parse(call.Body).RootElement.GetProperty("template").GetProperty("components").EnumerateArray().ToList();
            Assert.Equal("ORD-7", components.Single(c => c.GetProperty("type").GetString() == "header").GetProperty("parameters")[0].GetProperty("text").GetString());
            var button = components.Single(c => c.GetProperty("type").GetString() == "button");
            Assert.Equal(("url", "0", "ORD-7"), (button.GetProperty("sub_type").GetString(), button.GetProperty("index").ToString(),
                button.GetProperty("parameters")[0].GetProperty("text").GetString()));
            meta.Calls.Clear();
            using (var retry = Post("/api/v1/send-template", orderSend, "crm-order-7"))
            {
                var replayed = await crm.SendAsync(retry);
                Assert.Equal("true", replayed.Headers.GetValues("Idempotent-Replayed").Single());
                Assert.Equal("wamid.order-1", (await replayed.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("message_id").GetString());
                Assert.Equal("149", DayRemaining(replayed));
            }

            Assert.Empty(meta.Calls);

            // Text needs the customer to have written; a media send needs a permission this key lacks.
            var closed = await crm.PostAsJsonAsync("/api/v1/send-text", new { phone = Priya, message = "Your parcel is ready." });
            await closed.AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");
            await DeliverAsync(server, MetaPayloads.Delivery(MetaPayloads.Entry(MetaPayloads.MessagesChange(PhoneNumberId,
                messages: [MetaPayloads.Text("wamid.in-1", Priya, "Is my parcel ready?", server.Clock.GetUtcNow())],
                contacts: [MetaPayloads.Contact(Priya, "Priya")]))));
            meta.Reply(FakeMetaUpstream.Accepted("wamid.text-1"));
            await SendAsync(crm, "/api/v1/send-text", new { phone = Priya, message = "Your parcel is ready." }, "crm-text-1");
            var media = await crm.PostAsJsonAsync("/api/v1/send-media", new { phone = Priya, media_type = "image", media_url = "https://cdn.example/p.jpg" });
            await media.AssertErrorAsync(HttpStatusCode.Forbidden, "PERMISSION_DENIED");
            await (await admin.PatchAsJsonAsync($"/admin/v1/api-keys/{keyId}", new { permissions = new[] { "send_template", "send_text", "send_otp", "send_media" } }))
                .ReadJsonAsync(HttpStatusCode.OK);
            meta.Reply(FakeMetaUpstream.Accepted("wamid.media-1"));
            await SendAsync(crm, "/api/v1/send-media", new { phone = Priya, media_type = "image", media_url = "https://cdn.example/p.jpg", caption = "Your parcel" }, "crm-media-1");
            Assert.Equal("https://cdn.example/p.jpg", JsonDocument.Parse(meta.Calls.Last().Body).RootElement.GetProperty("image").GetProperty("link").GetString());

            // OTP, then quick-send both ways.
            meta.Reply(FakeMetaUpstream.Accepted("wamid.otp-1"));
            var otp = await SendAsync(crm, "/api/v1/send-otp", new { phone = Rahul, template_name = "login_code", otp = "482913" }, "crm-otp-1");
            Assert.Equal("482913", otp.GetProperty("otp").GetString());
            meta.Reply(FakeMetaUpstream.Accepted("wamid.quick-1"), FakeMetaUpstream.Accepted("wamid.quick-2"));
            var quickTemplate = await (await crm.GetAsync(
                $"/api/v1/quick-send?phone={Rahul}&template=delivery_update&params=Rahul,tomorrow&idempotency_key=form-1")).ReadJsonAsync(HttpStatusCode.OK);
            Assert.Equal("wamid.quick-1", quickTemplate.GetProperty("message_id").GetString());
            var quickText = await (await crm.GetAsync($"/api/v1/quick-send?phone={Priya}&message=Thanks%20%E2%82%B9")).ReadJsonAsync(HttpStatusCode.OK);
            Assert.Equal("wamid.quick-2", quickText.GetProperty("message_id").GetString());
            meta.Calls.Clear();

            // Meta throttles (retried by the server, then told), fails once with a 5xx, and once never answers.
            meta.Reply(FakeMetaUpstream.Error(400, 130429, "Rate limit hit"), FakeMetaUpstream.Error(400, 130429, "Rate limit hit"),
                FakeMetaUpstream.Error(400, 130429, "Rate limit hit"));
            var throttled = await crm.PostAsJsonAsync("/api/v1/send-template", new { phone = Rahul, template_name = "delivery_update", body_params = new[] { "Rahul", "soon" } });
            await throttled.AssertErrorAsync(HttpStatusCode.TooManyRequests, "UPSTREAM_RATE_LIMITED");
            Assert.Equal(3, meta.Calls.Count);
            meta.Calls.Clear();

            meta.Reply(FakeMetaUpstream.Json(500, """{"error":{"message":"An unknown error occurred","type":"OAuthException","code":1,"fbtrace_id":"A1"}}"""));
            var failed = await crm.PostAsJsonAsync("/api/v1/send-template", new { phone = Rahul, template_name = "delivery_update", body_params = new[] { "Rahul", "Friday" } });
            var unknownId = (await failed.AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE")).GetProperty("message_id").GetString()!;
            Assert.StartsWith("twb:", unknownId, StringComparison.Ordinal);
            var callback = JsonDocument.Parse(Assert.Single(meta.Calls).Body).RootElement.GetProperty("biz_opaque_callback_data").GetString();
            meta.Calls.Clear();

            meta.Reply(FakeMetaUpstream.Json(200, """{"messages":[{"id":"wamid.never"}]}""", delay: TimeSpan.FromSeconds(4)));
            var silent = await crm.PostAsJsonAsync("/api/v1/send-template", new { phone = Priya, template_name = "delivery_update", body_params = new[] { "Priya", "Monday" } });
            var silentId = (await silent.AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE")).GetProperty("message_id").GetString()!;
            meta.Calls.Clear();
            Assert.Equal("pending", (await StatusAsync(crm, unknownId)).GetProperty("api_status").GetString());

            // Status reports: late, out of order, twice, several in one delivery; and the 5xx send's report settles it.
            var at = server.Clock.GetUtcNow();
            await DeliverAsync(server, MetaPayloads.Delivery(MetaPayloads.Entry(MetaPayloads.MessagesChange(PhoneNumberId, statuses:
            [
                MetaPayloads.Status("wamid.order-1", "read", at.AddSeconds(30)),
                MetaPayloads.Status("wamid.text-1", "delivered", at.AddSeconds(5), recipient: Priya),
                MetaPayloads.Status("wamid.server-chose", "sent", at.AddSeconds(2), callbackData: callback),
            ]))));
            var late = MetaPayloads.Delivery(MetaPayloads.Entry(MetaPayloads.MessagesChange(PhoneNumberId, statuses:
            [
                MetaPayloads.Status("wamid.order-1", "sent", at.AddSeconds(1)),
                MetaPayloads.Status("wamid.order-1", "delivered", at.AddSeconds(10)),
            ])));
            await DeliverAsync(server, late);
            await DeliverAsync(server, late);
            var orderStatus = await StatusAsync(crm, "wamid.order-1");
            Assert.Equal("read", orderStatus.GetProperty("delivery_status").GetString());
            var settled = await StatusAsync(crm, unknownId);
            Assert.Equal(("wamid.server-chose", "sent"), (settled.GetProperty("message_id").GetString(), settled.GetProperty("delivery_status").GetString()));
            Assert.Equal("pending", (await StatusAsync(crm, silentId)).GetProperty("api_status").GetString());

            // Priya sends STOP, then changes her number: the stop follows her.
            await DeliverAsync(server, MetaPayloads.Delivery(MetaPayloads.Entry(MetaPayloads.MessagesChange(PhoneNumberId,
                messages: [MetaPayloads.Text("wamid.in-2", Priya, "STOP", at.AddSeconds(40))], contacts: [MetaPayloads.Contact(Priya, "Priya")]))));
            var stopped = await crm.PostAsJsonAsync("/api/v1/send-template", new { phone = Priya, template_name = "delivery_update", body_params = new[] { "Priya", "Monday" } });
            await stopped.AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
            await DeliverAsync(server, MetaPayloads.Delivery(MetaPayloads.Entry(MetaPayloads.MessagesChange(PhoneNumberId, messages:
            [
                MetaPayloads.SystemMessage("wamid.sys-1", Priya, new JsonObject
                {
                    ["body"] = $"User A changed from {Priya} to {PriyaNewNumber}", ["wa_id"] = PriyaNewNumber, ["type"] = "user_changed_number",
                }, at.AddSeconds(50)),
            ]))));
            var stillStopped = await crm.PostAsJsonAsync("/api/v1/send-template", new { phone = PriyaNewNumber, template_name = "delivery_update", body_params = new[] { "Priya", "Monday" } });
            await stillStopped.AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
            Assert.Empty(meta.Calls);

            // What a dashboard (operations.md, Metrics) and the log (Logs) show of the day.
            Assert.Equal(
                ["send-template TEMPLATE_NOT_FOUND", "send-template accepted", "send-template replayed", "send-text WINDOW_CLOSED", "send-text accepted",
                 "send-media PERMISSION_DENIED", "send-media accepted", "send-otp accepted", "quick-send accepted", "quick-send accepted", "send-template UPSTREAM_RATE_LIMITED",
                 "send-template META_UNAVAILABLE", "send-template META_UNAVAILABLE", "send-template SUPPRESSED", "send-template SUPPRESSED"],
                sendCounts.GetMeasurementSnapshot().Select(m => $"{m.Tags["twabot.endpoint"]} {m.Tags["twabot.result"]}"));
            Assert.Equal(
                ["list_phone_numbers ok -", "list_templates ok -", "create_template ok -", .. Enumerable.Repeat("send_message ok -", 6),
                 "send_message rejected 130429", "send_message unavailable 1", "send_message unavailable -"],
                metaCounts.GetMeasurementSnapshot().Select(m =>
                    $"{m.Tags["twabot.meta.operation"]} {m.Tags["twabot.meta.outcome"]} {(m.Tags.TryGetValue("twabot.meta.error_code", out var code) ? code : "-")}"));
            var log = server.Logs.AllText().Replace("\"", "", StringComparison.Ordinal); // the console writes string values unquoted
            Assert.Contains($"Business {businessId} connected to WhatsApp number {PhoneNumberId} (WABA {WabaId}, sandbox False)", log, StringComparison.Ordinal);
            Assert.Contains($"Meta refused a call: HTTP 400, code 130429", log, StringComparison.Ordinal);
            Assert.DoesNotContain(FirstToken, log, StringComparison.Ordinal);
            Assert.DoesNotContain(key, log, StringComparison.Ordinal);

            // Step 3. Meta stops taking the first token (expired): the CRM and the operator are told.
            meta.Reply(FakeMetaUpstream.Error(401, 190, "Error validating access token: Session has expired"));
            await (await crm.PostAsJsonAsync("/api/v1/send-template", orderSend)).AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");
            meta.Calls.Clear();
            Assert.False((await (await crm.GetAsync("/api/v1/health")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("whatsapp_connected").GetBoolean());
            var refused = await (await admin.GetAsync($"/admin/v1/businesses/{businessId}")).ReadJsonAsync(HttpStatusCode.OK);
            Assert.Equal(JsonValueKind.String, refused.GetProperty("business").GetProperty("whatsapp").GetProperty("token_refused_at").ValueKind);

            // The operator rotates the business's token (operations.md, "A business's Meta access token").
            var reconnected = await (await admin.PutAsJsonAsync($"/admin/v1/businesses/{businessId}/whatsapp", new
            {
                phone_number_id = PhoneNumberId, waba_id = WabaId, access_token = SecondToken, display_phone_number = FakeMetaUpstream.DisplayPhoneNumber,
            })).ReadJsonAsync(HttpStatusCode.OK);
            Assert.True(reconnected.GetProperty("business").GetProperty("whatsapp").GetProperty("connected").GetBoolean());
            Assert.Equal(JsonValueKind.Null, reconnected.GetProperty("business").GetProperty("whatsapp").GetProperty("token_refused_at").ValueKind);
            Assert.True((await (await crm.GetAsync("/api/v1/health")).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("whatsapp_connected").GetBoolean());
            meta.Reply(FakeMetaUpstream.Accepted("wamid.order-2"));
            await SendAsync(crm, "/api/v1/send-template", orderSend, "crm-order-8");
            Assert.Equal($"Bearer {SecondToken}", Assert.Single(meta.Calls).Authorization);
            meta.Calls.Clear();
            Assert.Equal("read", (await StatusAsync(crm, "wamid.order-1")).GetProperty("delivery_status").GetString()); // the number keeps its messages

            // It narrows the key: text is refused at once.
            await (await admin.PatchAsJsonAsync($"/admin/v1/api-keys/{keyId}", new { permissions = new[] { "send_template" } })).ReadJsonAsync(HttpStatusCode.OK);
            await (await crm.PostAsJsonAsync("/api/v1/send-text", new { phone = Rahul, message = "Hello" })).AssertErrorAsync(HttpStatusCode.Forbidden, "PERMISSION_DENIED");

            // Mid-day, the plan goes to Pro and the zone to New York (still the same day there): the day's sends stay counted.
            var usedToday = 9; // order-1, text-1, media-1, otp-1, two quick-sends, the 5xx and the silent one (unknown: kept), order-2
            Assert.Equal($"{150 - usedToday}", DayRemaining(await crm.GetAsync("/api/v1/health")));
            await (await admin.PatchAsJsonAsync($"/admin/v1/businesses/{businessId}", new { plan = "Pro", time_zone = "America/New_York" })).ReadJsonAsync(HttpStatusCode.OK);
            var afterPlan = await crm.GetAsync("/api/v1/health");
            Assert.Contains("\"day\";q=5000", afterPlan.Headers.GetValues("RateLimit-Policy").Single(), StringComparison.Ordinal);
            Assert.Equal($"{5000 - usedToday}", DayRemaining(afterPlan));

            // It caps the key at what it has used today: the next send is refused with the docs' body, then the cap is lifted.
            await (await admin.PatchAsJsonAsync($"/admin/v1/api-keys/{keyId}", new { daily_limit = usedToday })).ReadJsonAsync(HttpStatusCode.OK);
            var capped = await (await crm.PostAsJsonAsync("/api/v1/send-template", orderSend)).AssertErrorAsync(HttpStatusCode.TooManyRequests, "DAILY_LIMIT_REACHED");
            Assert.Equal((usedToday, usedToday, "Pro"), (capped.GetProperty("daily_limit").GetInt32(), capped.GetProperty("daily_used").GetInt32(), capped.GetProperty("plan").GetString()));
            await (await admin.PatchAsync($"/admin/v1/api-keys/{keyId}", JsonContent.Create(new JsonObject { ["daily_limit"] = null }))).ReadJsonAsync(HttpStatusCode.OK);
            var keys = await (await admin.GetAsync($"/admin/v1/businesses/{businessId}/api-keys")).ReadJsonAsync(HttpStatusCode.OK);
            var listedKey = Assert.Single(keys.GetProperty("api_keys").EnumerateArray());
            Assert.Equal(JsonValueKind.String, listedKey.GetProperty("last_used_at").ValueKind);
            Assert.Equal(["send_template"], listedKey.GetProperty("permissions").EnumerateArray().Select(p => p.GetString()));
            Assert.Empty(meta.Calls);

            // It exports the suppressions: Priya's STOP, under her old number and carried to the new one.
            var exported = (await (await admin.GetAsync($"/admin/v1/businesses/{businessId}/suppressions?limit=1000")).ReadJsonAsync(HttpStatusCode.OK));
            var exportedPhones = exported.GetProperty("suppressions").EnumerateArray().Select(e => e.GetProperty("phone").GetString()).ToList();
            Assert.Contains(Priya, exportedPhones);
            Assert.Equal(JsonValueKind.Null, exported.GetProperty("next_after").ValueKind);

            // The admin key rotation, step 1: new key, the old one as previous; a restart.
            const string NewAdminKey = "operator-week-new-admin-key-0123456789";
            settings["TwaBot:AdminKey"] = NewAdminKey;
            settings["TwaBot:PreviousAdminKey"] = TwaBotApiFactory.AdminKey;
            // The restart comes while a send is at Meta: its caller still gets Meta's answer (operations.md, Stopping and restarting).
            meta.Reply(FakeMetaUpstream.Json(200, """{"messaging_product":"whatsapp","messages":[{"id":"wamid.at-the-stop"}]}""", delay: TimeSpan.FromMilliseconds(500)));
            // A client of its own: the factory's clients are disposed with it, which would cancel the request on our side.
            using var ownClient = new HttpClient { BaseAddress = crm.BaseAddress };
            ownClient.DefaultRequestHeaders.Add("X-API-Key", key);
            var atTheStop = ownClient.PostAsJsonAsync("/api/v1/send-template", new { phone = Rahul, template_name = "delivery_update", body_params = new[] { "Rahul", "now" } });
            await Poll.UntilAsync(() => !meta.Calls.IsEmpty, "the send to reach Meta");
            meta.Calls.Clear();
            var restarting = RestartAsync(server, meta, settings);
            Assert.Equal("wamid.at-the-stop", (await (await atTheStop).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("message_id").GetString());
            admin.Dispose();
            crm.Dispose();
            server = await restarting;
            using var oldAdmin = server.CreateAdminClient();
            using var newAdmin = server.CreateClient();
            newAdmin.DefaultRequestHeaders.Add("X-Admin-Key", NewAdminKey);
            await (await oldAdmin.GetAsync($"/admin/v1/businesses/{businessId}")).ReadJsonAsync(HttpStatusCode.OK);
            await (await newAdmin.GetAsync($"/admin/v1/businesses/{businessId}")).ReadJsonAsync(HttpStatusCode.OK);
            Assert.Contains("used TwaBot:PreviousAdminKey", await server.Logs.AllTextOnceItHoldsAsync("used TwaBot:PreviousAdminKey"), StringComparison.Ordinal);

            // After the restart: the Idempotency-Key's answer, the unknown send, and the day's count are all still there.
            using var crm2 = server.CreateApiClient(key);
            using (var retry = Post("/api/v1/send-template", orderSend, "crm-order-7"))
            {
                var replayed = await crm2.SendAsync(retry);
                Assert.Equal("wamid.order-1", (await replayed.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("message_id").GetString());
            }

            Assert.Equal("pending", (await StatusAsync(crm2, silentId)).GetProperty("api_status").GetString());
            Assert.Equal("sent", (await StatusAsync(crm2, "wamid.at-the-stop")).GetProperty("delivery_status").GetString());
            Assert.Empty(meta.Calls);

            // The app secret: Meta signs with the new one before the server has it; refused, then accepted after a restart.
            const string NewAppSecret = "operator-week-new-app-secret-0123";
            var gap = MetaPayloads.Delivery(MetaPayloads.Entry(MetaPayloads.MessagesChange(PhoneNumberId,
                statuses: [MetaPayloads.Status("wamid.order-2", "delivered", at.AddMinutes(5))]))).ToJsonString();
            var signedByNew = TwaBot.Api.Webhooks.WebhookSignature.Sign(System.Text.Encoding.UTF8.GetBytes(gap), NewAppSecret);
            await (await server.PostWebhookAsync(gap, signedByNew)).AssertErrorAsync(HttpStatusCode.Unauthorized, "INVALID_SIGNATURE");
            settings["TwaBot:Meta:AppSecret"] = NewAppSecret;
            // Step 3 of the admin key's rotation at the same restart: the previous key goes.
            settings.Remove("TwaBot:PreviousAdminKey");
            server = await RestartAsync(server, meta, settings);
            (await server.PostWebhookAsync(gap, signedByNew)).EnsureSuccessStatusCode(); // Meta's retry of the gap
            await server.ApplyWebhooksAsync();
            using var admin3 = server.CreateClient();
            admin3.DefaultRequestHeaders.Add("X-Admin-Key", NewAdminKey);
            using var stale = server.CreateAdminClient();
            await (await stale.GetAsync($"/admin/v1/businesses/{businessId}")).AssertErrorAsync(HttpStatusCode.Unauthorized, "ADMIN_UNAUTHORIZED");
            using var crm3 = server.CreateApiClient(key);
            Assert.Equal("delivered", (await StatusAsync(crm3, "wamid.order-2")).GetProperty("delivery_status").GetString());

            // Backup as operations.md writes it (the inbox first, then the database, then the ring), one more send, restore.
            var backupFolder = Path.Combine(Path.GetTempPath(), $"twabot-week-backup-{Guid.NewGuid():N}");
            Directory.CreateDirectory(backupFolder);
            var inboxPath = TwaBot.Api.Webhooks.WebhookInboxFile.PathBeside(databasePath);
            var keyRing = TwaBot.Api.Businesses.KeyRing.FolderFor(configured: null, databasePath, Path.GetTempPath());
            await BackupSteps.VacuumIntoAsync(inboxPath, Path.Combine(backupFolder, "inbox.db"));
            await BackupSteps.VacuumIntoAsync(databasePath, Path.Combine(backupFolder, "twabot.db"));
            BackupSteps.CopyFolder(keyRing, Path.Combine(backupFolder, "keys"));
            meta.Reply(FakeMetaUpstream.Accepted("wamid.after-backup"));
            await SendAsync(crm3, "/api/v1/send-template", orderSend, "crm-order-9");
            meta.Calls.Clear();
            var stoppedAt = server.Clock.GetUtcNow();
            await server.DisposeAsync();
            DatabaseFiles.Delete(databasePath);
            File.Copy(Path.Combine(backupFolder, "twabot.db"), databasePath);
            File.Copy(Path.Combine(backupFolder, "inbox.db"), inboxPath);
            BackupSteps.CopyFolder(Path.Combine(backupFolder, "keys"), keyRing); // Delete above took the folder: the ring is replaced
            Directory.Delete(backupFolder, recursive: true);
            server = Start(meta, settings, databasePath, stoppedAt);
            using var crm4 = server.CreateApiClient(key);
            await (await crm4.GetAsync("/api/v1/message-status/wamid.after-backup")).AssertErrorAsync(HttpStatusCode.NotFound, "MESSAGE_NOT_FOUND");
            Assert.Equal("delivered", (await StatusAsync(crm4, "wamid.order-2")).GetProperty("delivery_status").GetString());
            // The send of the gap has no row: a retry with its Idempotency-Key sends again (operations.md, Restoring, step 5).
            meta.Reply(FakeMetaUpstream.Accepted("wamid.after-restore"));
            using (var retry = Post("/api/v1/send-template", orderSend, "crm-order-9"))
            {
                var sentAgain = await crm4.SendAsync(retry);
                Assert.False(sentAgain.Headers.Contains("Idempotent-Replayed"));
                Assert.Equal("wamid.after-restore", (await sentAgain.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("message_id").GetString());
            }

            Assert.Equal($"Bearer {SecondToken}", Assert.Single(meta.Calls).Authorization); // the token decrypts with the restored ring
            meta.Calls.Clear();

            server.Clock.Advance(TimeSpan.FromMinutes(1));

            // The number moves to a second business (operations.md, Moving a WhatsApp number), its opt-outs with it.
            using var admin4 = server.CreateClient();
            admin4.DefaultRequestHeaders.Add("X-Admin-Key", NewAdminKey);
            (await admin4.DeleteAsync($"/admin/v1/businesses/{businessId}/whatsapp")).EnsureSuccessStatusCode();
            await (await crm4.PostAsJsonAsync("/api/v1/send-template", orderSend)).AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");
            var second = await (await admin4.PostAsJsonAsync("/admin/v1/businesses", new { name = "Acme Outlet", plan = "Pro" })).ReadJsonAsync(HttpStatusCode.Created);
            var secondId = second.GetProperty("business").GetProperty("id").GetInt64();
            await (await admin4.PutAsJsonAsync($"/admin/v1/businesses/{secondId}/whatsapp",
                new { phone_number_id = PhoneNumberId, waba_id = WabaId, access_token = "EAAGoperatorWeekOutletToken0123456789" })).ReadJsonAsync(HttpStatusCode.OK);
            meta.Reply(FakeMetaUpstream.Json(200, MetaTemplates));
            await (await admin4.PostAsync($"/admin/v1/businesses/{secondId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);
            meta.Calls.Clear();
            var page = await (await admin4.GetAsync($"/admin/v1/businesses/{businessId}/suppressions?limit=1000")).ReadJsonAsync(HttpStatusCode.OK);
            var carried = new JsonObject
            {
                ["suppressions"] = new JsonArray([.. page.GetProperty("suppressions").EnumerateArray().Select(e => (JsonNode)new JsonObject
                {
                    ["phone"] = e.GetProperty("phone").GetString(), ["state"] = e.GetProperty("state").GetString(), ["reason"] = e.GetProperty("reason").GetString(),
                })]),
            };
            var imported = await (await admin4.PostAsJsonAsync($"/admin/v1/businesses/{secondId}/suppressions/import", carried)).ReadJsonAsync(HttpStatusCode.OK);
            Assert.Equal(exportedPhones.Count, imported.GetProperty("added").GetInt32());
            var outletKey = await (await admin4.PostAsJsonAsync($"/admin/v1/businesses/{secondId}/api-keys", new { name = "Outlet CRM", permissions = new[] { "*" } }))
                .ReadJsonAsync(HttpStatusCode.Created);
            using var outlet = server.CreateApiClient(outletKey.GetProperty("api_key").GetProperty("key").GetString()!);
            await (await outlet.GetAsync("/api/v1/message-status/wamid.order-1")).AssertErrorAsync(HttpStatusCode.NotFound, "MESSAGE_NOT_FOUND");
            await (await outlet.PostAsJsonAsync("/api/v1/send-template", new { phone = PriyaNewNumber, template_name = "order_confirmation",
                header_params = new[] { "ORD-9" }, body_params = new[] { "Priya", "ORD-9", "€9" }, button_params = new[] { "ORD-9" } }))
                .AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
            Assert.Empty(meta.Calls);

            // Rahul writes to the number after the move: the window is the new business's, and its token sends the reply.
            await (await outlet.PostAsJsonAsync("/api/v1/send-text", new { phone = Rahul, message = "Hello again" })).AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");
            await DeliverAsync(server, MetaPayloads.Delivery(MetaPayloads.Entry(MetaPayloads.MessagesChange(PhoneNumberId,
                messages: [MetaPayloads.Text("wamid.in-3", Rahul, "Do you have it in blue?", server.Clock.GetUtcNow())], contacts: [MetaPayloads.Contact(Rahul, "Rahul")]))));
            meta.Reply(FakeMetaUpstream.Accepted("wamid.outlet-1"));
            await (await outlet.PostAsJsonAsync("/api/v1/send-text", new { phone = Rahul, message = "Yes, in blue too." })).ReadJsonAsync(HttpStatusCode.OK);
            Assert.Equal("Bearer EAAGoperatorWeekOutletToken0123456789", Assert.Single(meta.Calls).Authorization);
            meta.Calls.Clear();

            var firstHealth = await (await crm4.GetAsync("/api/v1/health")).ReadJsonAsync(HttpStatusCode.OK);
            Assert.False(firstHealth.GetProperty("whatsapp_connected").GetBoolean());
            Assert.DoesNotContain(SecondToken, server.Logs.AllText(), StringComparison.Ordinal);

            // Meta's late report on a message the first business sent still reaches it.
            await DeliverAsync(server, MetaPayloads.Delivery(MetaPayloads.Entry(MetaPayloads.MessagesChange(PhoneNumberId,
                statuses: [MetaPayloads.Status("wamid.after-restore", "read", at.AddMinutes(30))]))));
            Assert.Equal("read", (await StatusAsync(crm4, "wamid.after-restore")).GetProperty("delivery_status").GetString());

            // The send Meta never answered: no report came in ten minutes, so it is "unknown" (README, Errors).
            server.Clock.Advance(TimeSpan.FromMinutes(11));
            await server.Services.GetRequiredService<TwaBot.Api.Sending.InterruptedSendSweeper>().SweepAsync(CancellationToken.None);
            Assert.Equal("unknown", (await StatusAsync(crm4, silentId)).GetProperty("api_status").GetString());
        }
        finally
        {
            await server.DisposeAsync();
            DatabaseFiles.Delete(databasePath);
        }
    }

    private static async Task<TwaBotApiFactory> RestartAsync(TwaBotApiFactory running, FakeMetaUpstream meta, Dictionary<string, string?> settings)
    {
        var path = running.DatabasePath;
        var stoppedAt = running.Clock.GetUtcNow();
        await running.DisposeAsync();
        return Start(meta, settings, path, stoppedAt);
    }

    /// <summary>A server on the files at <paramref name="path"/>, its clock a minute after <paramref name="stoppedAt"/> (each test server's clock starts at the same instant).</summary>
    private static TwaBotApiFactory Start(FakeMetaUpstream meta, Dictionary<string, string?> settings, string path, DateTimeOffset stoppedAt)
    {
        var next = LiveMode.Against(meta, settings, path);
        next.DeleteDatabaseOnDispose = false;
        next.Clock.SetUtcNow(stoppedAt.AddMinutes(1));
        return next;
    }

    private static HttpRequestMessage Post(string path, object body, string idempotencyKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        return request;
    }

    private static async Task<JsonElement> SendAsync(HttpClient client, string path, object body, string idempotencyKey)
    {
        using var request = Post(path, body, idempotencyKey);
        return await (await client.SendAsync(request)).ReadJsonAsync(HttpStatusCode.OK);
    }

    private static async Task<JsonElement> StatusAsync(HttpClient client, string messageId) =>
        await (await client.GetAsync($"/api/v1/message-status/{Uri.EscapeDataString(messageId)}")).ReadJsonAsync(HttpStatusCode.OK);

    private static string DayRemaining(HttpResponseMessage response) =>
        response.Headers.GetValues("RateLimit").Single().Split("\"day\";r=")[1].Split(';')[0];

    private static async Task DeliverAsync(TwaBotApiFactory server, JsonNode delivery)
    {
        (await server.PostWebhookAsync(delivery)).EnsureSuccessStatusCode();
        await server.ApplyWebhooksAsync();
    }
}
