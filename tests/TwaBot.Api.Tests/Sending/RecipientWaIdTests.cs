using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Sandbox;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Sending;

/// <summary>
/// Meta's wa_id for a number can differ from the number (meta-cloud-api.md §1.4); the customer writes,
/// and sends STOP, from the wa_id. The emulator answers like Meta for Brazilian, Mexican and Argentine mobiles (Phones/WaIdForms).
/// </summary>
public class RecipientWaIdTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    private const string Dialled = "5511987654321";
    private const string WaId = "551187654321";

    [Theory]
    [InlineData(Dialled, WaId)]
    [InlineData("5511887654321", "5511887654321")] // no ninth-digit 9
    [InlineData("5511912345678", "5511912345678")] // eight digits starting 1: never a mobile's before the 9
    [InlineData("525512345678", "5215512345678")]  // Mexico: the 1 mobiles dropped in 2019
    [InlineData("5215512345678", "5215512345678")]
    [InlineData("541158749895", "5491158749895")]  // Argentina: the 9 of a mobile
    [InlineData("5491158749895", "5491158749895")]
    [InlineData("545158749895", "545158749895")]   // no Argentine area code starts 5
    [InlineData("5511968765432", "551168765432")]  // eight digits starting 6, the lowest a mobile's did
    [InlineData("5511958765432", "5511958765432")] // starting 5: a fixed line's, which never gained a 9
    [InlineData("5501987654321", "5501987654321")] // no Brazilian area code starts 0
    [InlineData("552198765432", "552198765432")]   // twelve digits: already a wa_id without the ninth digit
    [InlineData("529991234567", "5219991234567")]  // Mexico: area codes start 2–9
    [InlineData("522512345678", "5212512345678")]  // 2, the lowest
    [InlineData("521012345678", "521012345678")]   // no Mexican number starts with 1
    [InlineData("543514567890", "5493514567890")]  // Argentina: area codes start 1–3
    [InlineData("544158749895", "544158749895")]
    [InlineData("540158749895", "540158749895")]
    [InlineData("919876543210", "919876543210")]
    [InlineData("4917961234567", "4917961234567")] // 13 digits of another country: only Brazil's mobiles gained a ninth digit
    [InlineData("55119x7654321", "55119x7654321")] // not digits: names no number, so no other form
    public void TheEmulatorAnswersTheWaIdMetaGivesANumber(string to, string expected) =>
        Assert.Equal(expected, SandboxGraphApi.WaIdFor(to));

    [Fact]
    public async Task AStopFromTheWaIdMetaGaveANumberSuppressesSendsToTheNumber()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        (await SendTemplateAsync(tenant, Dialled)).EnsureSuccessStatusCode();

        await factory.CustomerWritesAsync(tenant.BusinessId, WaId, "STOP");
        var response = await SendTemplateAsync(tenant, Dialled);

        var json = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
        Assert.Equal("opted_out", json.GetProperty("suppression_state").GetString());
    }

    [Fact]
    public async Task TheAdminApiFindsAndLiftsTheStopASendToTheNumberIsRefusedFor()
    {
        // The send named the dialled number as suppressed while the admin API answered "not suppressed" for it and
        // could not lift it: the row is under the wa_id, which the operator never sees.
        var tenant = await factory.CreateSendingTenantAsync();
        (await SendTemplateAsync(tenant, Dialled)).EnsureSuccessStatusCode();
        await factory.CustomerWritesAsync(tenant.BusinessId, WaId, "STOP");
        using var admin = factory.CreateAdminClient();

        var found = await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions/{Dialled}");
        var removed = await admin.DeleteAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions/{Dialled}");
        var resent = await SendTemplateAsync(tenant, Dialled);

        Assert.Equal("opted_out", (await found.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("suppression").GetProperty("state").GetString());
        await removed.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.OK, resent.StatusCode);
    }

    [Fact]
    public async Task AStartFromTheWaIdLiftsAnOptOutEnteredUnderTheNumber()
    {
        // An operator records a customer's opt-out by the number they dial; the customer writes START from the wa_id.
        var tenant = await factory.CreateSendingTenantAsync();
        (await SendTemplateAsync(tenant, Dialled)).EnsureSuccessStatusCode();
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions",
            new { phone = Dialled, state = "opted_out" })).EnsureSuccessStatusCode();
        await (await SendTemplateAsync(tenant, Dialled)).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");

        await factory.CustomerWritesAsync(tenant.BusinessId, WaId, "START");

        Assert.Equal(HttpStatusCode.OK, (await SendTemplateAsync(tenant, Dialled)).StatusCode);
    }

    [Fact]
    public async Task AStartToAnotherBusinessThatLearnedTheWaIdLiftsNoOptOutHere()
    {
        // Which wa_id Meta gave a number is learned per business (tenant data), and a START is said to one business:
        // the customer's START to another business, which sent to the number, leaves the number this business opted out.
        var other = await factory.CreateSendingTenantAsync();
        (await SendTemplateAsync(other, Dialled)).EnsureSuccessStatusCode();
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions",
            new { phone = Dialled, state = "opted_out" })).EnsureSuccessStatusCode();

        await factory.CustomerWritesAsync(other.BusinessId, WaId, "START");

        await (await SendTemplateAsync(tenant, Dialled)).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
    }

    [Fact]
    public async Task AStartFromOneCustomerLeavesAnotherBrazilianNumbersOptOut()
    {
        // Two Brazilian mobiles, each with its own wa_id: the START of one must not lift the other's opt-out.
        var tenant = await factory.CreateSendingTenantAsync();
        const string otherDialled = "5521987651234";
        (await SendTemplateAsync(tenant, Dialled)).EnsureSuccessStatusCode();
        (await SendTemplateAsync(tenant, otherDialled)).EnsureSuccessStatusCode();
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions",
            new { phone = otherDialled, state = "opted_out" })).EnsureSuccessStatusCode();

        await factory.CustomerWritesAsync(tenant.BusinessId, WaId, "START");

        await (await SendTemplateAsync(tenant, otherDialled)).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
    }

    [Fact]
    public async Task AWaIdsStopIsNotShownOrLiftedForAnotherNumber()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        (await SendTemplateAsync(tenant, Dialled)).EnsureSuccessStatusCode();
        await factory.CustomerWritesAsync(tenant.BusinessId, WaId, "STOP");
        using var admin = factory.CreateAdminClient();

        var found = await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions/919812340000");
        var removed = await admin.DeleteAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions/919812340000");

        await found.AssertErrorAsync(HttpStatusCode.NotFound, "SUPPRESSION_NOT_FOUND");
        await removed.AssertErrorAsync(HttpStatusCode.NotFound, "SUPPRESSION_NOT_FOUND");
        await (await SendTemplateAsync(tenant, Dialled)).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
    }

    [Fact]
    public async Task TheNumbersOwnSuppressionIsTheOneShownBeforeItsWaIds()
    {
        // Both rows exist: the operator blocked the number, and the customer later sent STOP from the wa_id. The admin API
        // and a send's SUPPRESSED both name what the operator entered for the number (each reads the rows its own way).
        var tenant = await factory.CreateSendingTenantAsync();
        (await SendTemplateAsync(tenant, Dialled)).EnsureSuccessStatusCode();
        await factory.CustomerWritesAsync(tenant.BusinessId, WaId, "STOP");
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions",
            new { phone = Dialled, state = "blocked" })).EnsureSuccessStatusCode();

        var found = await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions/{Dialled}");
        var send = await SendTemplateAsync(tenant, Dialled);

        var suppression = (await found.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("suppression");
        Assert.Equal((Dialled, "blocked"), (suppression.GetProperty("phone").GetString(), suppression.GetProperty("state").GetString()));
        Assert.Equal("blocked", (await send.AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED")).GetProperty("suppression_state").GetString());
    }

    [Fact]
    public async Task AMessageFromTheWaIdOpensTheWindowForTheNumber()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        (await SendTemplateAsync(tenant, Dialled)).EnsureSuccessStatusCode();

        await factory.CustomerWritesAsync(tenant.BusinessId, WaId, "Hi, is my order on its way?");
        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = Dialled, message = "Yes, tomorrow." });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task AStopFromABrazilianWaIdBeforeAnySendSuppressesTheFirstSendToTheNumber()
    {
        // The customer wrote first: no send's answer has named the wa_id of the number yet.
        var tenant = await factory.CreateSendingTenantAsync();

        await factory.CustomerWritesAsync(tenant.BusinessId, WaId, "STOP");

        await (await SendTemplateAsync(tenant, Dialled)).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
    }

    [Fact]
    public async Task AStopFromABrazilianWaIdIsFoundUnderTheNumberThoughAnotherBusinessLearnedThePairFirst()
    {
        // The pair is each business's own: another business's copy is none of this one's, whose first send would miss the STOP.
        var other = await factory.CreateSendingTenantAsync();
        await factory.CustomerWritesAsync(other.BusinessId, WaId, "Oi");
        var tenant = await factory.CreateSendingTenantAsync();

        await factory.CustomerWritesAsync(tenant.BusinessId, WaId, "STOP");

        await (await SendTemplateAsync(tenant, Dialled)).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
        await (await SendTemplateAsync(other, Dialled)).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task AMessageFromABrazilianWaIdBeforeAnySendOpensTheWindowForTheNumber()
    {
        var tenant = await factory.CreateSendingTenantAsync();

        await factory.CustomerWritesAsync(tenant.BusinessId, WaId, "Oi, meu pedido já saiu?");
        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = Dialled, message = "Sim, amanhã." });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("STOP", "order_confirmation", "opted_out")]
    [InlineData("Stop promotions", "spring_sale", "marketing_opted_out")]
    public async Task AnOptOutThatFollowsACustomerToABrazilianWaIdRefusesTheFirstSendToTheNumberAsWritten(string said, string template, string state)
    {
        // The customer opts out, then moves to a Brazilian mobile: Meta's notice names the new number by its wa_id, and the
        // business sends to the number as the customer writes it, before any send's answer has paired the two.
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates",
            new { name = "spring_sale", language = "en", category = "MARKETING", body = "Hi {{1}}, our spring sale is on." })).EnsureSuccessStatusCode();
        var former = OrdinaryNumbers.Any();
        await factory.CustomerWritesAsync(tenant.BusinessId, former, said);
        var phoneNumberId = "";
        await factory.WithDbAsync(async db => phoneNumberId = (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == tenant.BusinessId)).PhoneNumberId);

        var notice = Webhooks.MetaPayloads.SystemMessage($"wamid.changed-{Guid.NewGuid():N}", former,
            new JsonObject { ["body"] = $"User changed from {former} to {WaId}", ["wa_id"] = WaId, ["type"] = "user_changed_number" },
            factory.Clock.GetUtcNow());
        (await factory.PostWebhookAsync(Webhooks.MetaPayloads.Delivery(Webhooks.MetaPayloads.Entry(
            Webhooks.MetaPayloads.MessagesChange(phoneNumberId, messages: [notice]))))).EnsureSuccessStatusCode();
        await factory.ApplyWebhooksAsync();
        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-template", template == "spring_sale"
            ? new { phone = Dialled, template_name = template, body_params = new[] { "Rahul" } }
            : new { phone = Dialled, template_name = template, body_params = new[] { "Rahul", "ORD-1", "₹1,499" } });

        var refused = await response.AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
        Assert.Equal(state, refused.GetProperty("suppression_state").GetString());
    }

    [Theory]
    [InlineData("551187654321", "5511987654321")]
    [InlineData("552161234567", "5521961234567")]
    [InlineData("551132654321", null)]   // a fixed line: never had a ninth digit
    [InlineData("5511987654321", null)]  // already the number
    [InlineData("550187654321", null)]   // no area code starts with 0
    [InlineData("551168765432", "5511968765432")] // eight digits starting 6, the lowest a mobile's did
    [InlineData("551158765432", null)]   // starting 5: a fixed line's
    [InlineData("5215512345678", "525512345678")]
    [InlineData("5211012345678", null)]  // no Mexican number starts with 1 after the 1
    [InlineData("5219991234567", "529991234567")]
    [InlineData("5212512345678", "522512345678")]  // 2, the lowest Mexican area code's first digit
    [InlineData("525512345678", null)]
    [InlineData("5491158749895", "541158749895")]
    [InlineData("5493514567890", "543514567890")]
    [InlineData("5495158749895", null)]  // no Argentine area code starts 5
    [InlineData("5494158749895", null)]  // nor 4
    [InlineData("5490158749895", null)]  // nor 0
    [InlineData("541158749895", null)]
    [InlineData("911187654321", null)]
    [InlineData("15215512345678", null)]
    [InlineData("5511x7654321", null)]   // not digits: a wa_id kept as written names no number
    public void OnlyAMobilesWaIdInTheOtherFormNamesAWrittenNumber(string waId, string? number) =>
        Assert.Equal(number, TwaBot.Api.Phones.WaIdForms.WrittenNumberOf(waId));

    [Theory]
    [InlineData("+55 11 98765-4321", "5511987654321")]   // a number as written: its digits
    [InlineData("(91) 98765 43210", "919876543210")]
    [InlineData("551187654321", "551187654321")]
    [InlineData("US.13491208655302741918", null)]        // a business-scoped user id keeps its form
    [InlineData("5511.98765.4321", null)]                // dots are no separator Meta writes
    [InlineData("+ -()", null)]                          // separators alone: no number
    [InlineData("", null)]
    public void AWaIdWrittenAsANumberIsItsDigits(string waId, string? digits) =>
        Assert.Equal(digits, TwaBot.Api.Phones.WaIdForms.DigitsOf(waId));

    [Theory]
    [InlineData("5511987654321")]
    [InlineData("525512345678")]
    [InlineData("541158749895")]
    public void AWrittenNumbersWaIdLeadsBackToIt(string number)
    {
        var waId = Assert.IsType<string>(TwaBot.Api.Phones.WaIdForms.WaIdOf(number));

        Assert.Equal(number, TwaBot.Api.Phones.WaIdForms.WrittenNumberOf(waId));
        Assert.Equal((waId, number), (TwaBot.Api.Phones.WaIdForms.OtherFormOf(number), TwaBot.Api.Phones.WaIdForms.OtherFormOf(waId)));
    }

    [Theory]
    [InlineData("5215512345678", "525512345678")]   // Mexico
    [InlineData("5491158749895", "541158749895")]   // Argentina
    public async Task AMessageFromAMexicanOrArgentineWaIdBeforeAnySendOpensTheWindowForTheNumberAsWritten(string waId, string written)
    {
        var tenant = await factory.CreateSendingTenantAsync();

        await factory.CustomerWritesAsync(tenant.BusinessId, waId, "Hola, ¿ya salió mi pedido?");
        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "+" + written, message = "Sí, mañana." });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("5215512345679", "525512345679")]
    [InlineData("5491158749896", "541158749896")]
    public async Task AStopFromAMexicanOrArgentineWaIdBeforeAnySendSuppressesTheNumberAsWritten(string waId, string written)
    {
        var tenant = await factory.CreateSendingTenantAsync();

        await factory.CustomerWritesAsync(tenant.BusinessId, waId, "STOP");

        await (await SendTemplateAsync(tenant, written)).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
    }

    [Fact]
    public async Task ASendToAMexicanNumberLearnsTheWaIdTheEmulatorAnswered()
    {
        // Like Meta, the emulator names 52 and ten digits 521 and the ten; the send's answer records the pair.
        var tenant = await factory.CreateSendingTenantAsync();

        (await SendTemplateAsync(tenant, "523312345678")).EnsureSuccessStatusCode();

        await factory.WithDbAsync(async db =>
        {
            var row = Assert.Single(await db.RecipientWaIds.AsNoTracking().Where(r => r.BusinessId == tenant.BusinessId).ToListAsync());
            Assert.Equal(("523312345678", "5213312345678"), (row.Phone, row.WaId));
        });
    }

    [Fact]
    public async Task ANumberThatIsItsOwnWaIdLeavesNoRow()
    {
        var tenant = await factory.CreateSendingTenantAsync();

        (await SendTemplateAsync(tenant, "919812341234")).EnsureSuccessStatusCode();
        (await SendTemplateAsync(tenant, Dialled)).EnsureSuccessStatusCode();

        await factory.WithDbAsync(async db =>
        {
            var rows = await db.RecipientWaIds.AsNoTracking().Where(r => r.BusinessId == tenant.BusinessId).ToListAsync();
            var row = Assert.Single(rows);
            Assert.Equal((Dialled, WaId), (row.Phone, row.WaId));
        });
    }

    [Theory]
    [InlineData("5511987654331", "551187654331")]   // Brazil: with and without the ninth digit
    [InlineData("525512345688", "5215512345688")]   // Mexico: 52 and 521
    [InlineData("541158749885", "5491158749885")]   // Argentina: 54 and 549
    public async Task AnOperatorsSuppressionOfTheNumberAsWrittenRefusesSendsToItsWaIdForm(string written, string waId)
    {
        // A CRM may hold the older form of the same mobile (a Brazilian number from before the ninth digit, a Mexican one
        // with the 1): the operator's block of the number as dialled is that phone's, whichever form a send names.
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions",
            new { phone = written, state = "blocked" })).EnsureSuccessStatusCode();

        var json = await (await SendTemplateAsync(tenant, "+" + waId)).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");

        Assert.Equal("blocked", json.GetProperty("suppression_state").GetString());
    }

    [Theory]
    [InlineData("5511987654332", "551187654332")]
    [InlineData("525512345689", "5215512345689")]
    public async Task TheAdminApiFindsAndLiftsUnderTheWaIdFormASuppressionEnteredAsWritten(string written, string waId)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions",
            new { phone = written, state = "opted_out" })).EnsureSuccessStatusCode();

        var found = await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions/{waId}");
        var removed = await admin.DeleteAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions/{waId}");

        var suppression = (await found.ReadJsonAsync(HttpStatusCode.OK)).GetProperty("suppression");
        Assert.Equal((written, "opted_out"), (suppression.GetProperty("phone").GetString(), suppression.GetProperty("state").GetString()));
        await removed.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.OK, (await SendTemplateAsync(tenant, written)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendTemplateAsync(tenant, waId)).StatusCode);
    }

    [Fact]
    public async Task ANumberSuppressedInBothFormsIsListedTwiceAndLiftedByOneDeleteOfEither()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        var suppressions = $"/admin/v1/businesses/{tenant.BusinessId}/suppressions";
        (await admin.PostAsJsonAsync(suppressions, new { phone = "5511987654333", state = "blocked" })).EnsureSuccessStatusCode();
        (await admin.PostAsJsonAsync(suppressions, new { phone = "551187654333", state = "opted_out" })).EnsureSuccessStatusCode();

        var listed = (await (await admin.GetAsync(suppressions)).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("suppressions")
            .EnumerateArray().Select(e => (e.GetProperty("phone").GetString(), e.GetProperty("state").GetString())).ToList();
        await (await admin.DeleteAsync($"{suppressions}/551187654333")).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal([("551187654333", "opted_out"), ("5511987654333", "blocked")], listed);
        Assert.Empty((await (await admin.GetAsync(suppressions)).ReadJsonAsync(HttpStatusCode.OK)).GetProperty("suppressions").EnumerateArray());
        Assert.Equal(HttpStatusCode.OK, (await SendTemplateAsync(tenant, "5511987654333")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendTemplateAsync(tenant, "551187654333")).StatusCode);
    }

    [Theory]
    [InlineData("5511987654334", "551187654334")]
    [InlineData("525512345690", "5215512345690")]
    public async Task AStartAsTheCustomersFirstMessageLiftsAnOptOutEnteredUnderTheNumberAsWritten(string written, string waId)
    {
        // An opt-out list imported from another provider, and a customer who never wrote here before: their START,
        // from the wa_id, is their first message (the pair it implies is recorded in the same step).
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions",
            new { phone = written, state = "opted_out" })).EnsureSuccessStatusCode();

        await factory.CustomerWritesAsync(tenant.BusinessId, written, "START"); // the emulator writes from the wa_id

        await factory.WithDbAsync(async db =>
            Assert.Contains(waId, await db.Contacts.AsNoTracking().Where(c => c.BusinessId == tenant.BusinessId).Select(c => c.Phone).ToListAsync()));
        Assert.Equal(HttpStatusCode.OK, (await SendTemplateAsync(tenant, written)).StatusCode);
    }

    [Fact]
    public async Task AMessageFromAWaIdThatKeepsTheNinthDigitOpensTheWindowForTheOlderForm()
    {
        // Meta gives many Brazilian mobiles a wa_id with the ninth digit; a CRM may still hold the number without it.
        var tenant = await factory.CreateSendingTenantAsync();
        var phoneNumberId = "";
        await factory.WithDbAsync(async db => phoneNumberId = (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == tenant.BusinessId)).PhoneNumberId);
        (await factory.PostWebhookAsync(Webhooks.MetaPayloads.Delivery(Webhooks.MetaPayloads.Entry(Webhooks.MetaPayloads.MessagesChange(phoneNumberId,
            messages: [Webhooks.MetaPayloads.Text("wamid.rv42-ninth-digit", "5511987654335", "Oi", factory.Clock.GetUtcNow())])))))
            .EnsureSuccessStatusCode();
        await factory.ApplyWebhooksAsync();

        var response = await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = "551187654335", message = "Olá!" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("5511932654321", "551132654321")]  // a fixed line: 2–5 after the area code, never given a ninth digit
    [InlineData("5511932654321", "+55 11 3265-4321")]
    public async Task ABrazilianFixedLineIsNotTakenForTheMobileWithANinthDigit(string suppressed, string sentTo)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();
        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions",
            new { phone = suppressed, state = "blocked" })).EnsureSuccessStatusCode();

        Assert.Equal(HttpStatusCode.OK, (await SendTemplateAsync(tenant, sentTo)).StatusCode);
        await (await admin.GetAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions/551132654321"))
            .AssertErrorAsync(HttpStatusCode.NotFound, "SUPPRESSION_NOT_FOUND");
    }

    [Fact]
    public async Task AnotherBusinesssPairMakesNeitherTheWaIdsMessageNorItsStopCountHereForTheNumber()
    {
        // Meta's answer to another business's send paired the number with a wa_id (of no country rule); this business
        // never learned it: its customer at that wa_id is not, here, the number's, for the window or for a STOP.
        const string number = "919876543277", waId = "16315550177";
        var other = await factory.CreateSendingTenantAsync();
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.WithDbAsync(async db =>
        {
            db.RecipientWaIds.Add(new Conversations.RecipientWaId { BusinessId = other.BusinessId, Phone = number, WaId = waId, UpdatedAt = factory.Clock.GetUtcNow().UtcDateTime });
            await db.SaveChangesAsync();
        });

        await factory.CustomerWritesAsync(tenant.BusinessId, waId, "Hi");
        var text = await tenant.Client.PostAsJsonAsync("/api/v1/send-text", new { phone = number, message = "Hello" });
        await factory.CustomerWritesAsync(tenant.BusinessId, waId, "STOP");
        var template = await SendTemplateAsync(tenant, number);

        await text.AssertErrorAsync(HttpStatusCode.BadRequest, "WINDOW_CLOSED");
        Assert.Equal(HttpStatusCode.OK, template.StatusCode);
    }

    [Fact]
    public async Task AnAnswerNamingTheNumberItselfDropsOnlyThisBusinesssPairForIt()
    {
        // Each business learned a wa_id for the number; the sandbox now answers this business's send with the number
        // itself: its own pair is stale and goes, while the other business's pair is what Meta told that business.
        const string number = "919876543266", waId = "16315550166";
        var other = await factory.CreateSendingTenantAsync();
        var tenant = await factory.CreateSendingTenantAsync();
        await factory.WithDbAsync(async db =>
        {
            var at = factory.Clock.GetUtcNow().UtcDateTime;
            db.RecipientWaIds.Add(new Conversations.RecipientWaId { BusinessId = other.BusinessId, Phone = number, WaId = waId, UpdatedAt = at });
            db.RecipientWaIds.Add(new Conversations.RecipientWaId { BusinessId = tenant.BusinessId, Phone = number, WaId = waId, UpdatedAt = at });
            await db.SaveChangesAsync();
        });

        (await SendTemplateAsync(tenant, number)).EnsureSuccessStatusCode();

        await factory.WithDbAsync(async db =>
        {
            var rows = await db.RecipientWaIds.AsNoTracking().Where(r => r.Phone == number).ToListAsync();
            var row = Assert.Single(rows);
            Assert.Equal((other.BusinessId, waId), (row.BusinessId, row.WaId));
        });
    }

    [Fact]
    public async Task AnOperatorsEntryUnderAWaIdPairsItHereThoughAnotherBusinessPairedTheNumber()
    {
        // The pair an admin entry under a Brazilian wa_id implies is this business's, whatever another business learned.
        const string written = "5511987654377", waId = "551187654377";
        var other = await factory.CreateSendingTenantAsync();
        (await SendTemplateAsync(other, written)).EnsureSuccessStatusCode(); // the emulator's answer pairs it there
        var tenant = await factory.CreateSendingTenantAsync();
        using var admin = factory.CreateAdminClient();

        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions",
            new { phone = waId, state = "opted_out" })).EnsureSuccessStatusCode();

        await (await SendTemplateAsync(tenant, written)).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
    }

    private static Task<HttpResponseMessage> SendTemplateAsync(SendingTenant tenant, string phone) =>
        tenant.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone, template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-1", "₹1,499" } });
}
