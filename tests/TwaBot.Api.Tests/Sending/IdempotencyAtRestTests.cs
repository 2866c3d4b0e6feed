using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TwaBot.Api.Sending.Idempotency;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Sending;

/// <summary>
/// What an Idempotency-Key keeps is encrypted with the server's key ring: a kept send-otp answer holds the code,
/// and a plain hash of the request would give it back to whoever tries the million six-digit codes.
/// </summary>
public class IdempotencyAtRestTests
{
    private const string Code = "482913";
    private static readonly object Otp = new { phone = "919876543210", template_name = "otp_verification", otp = Code };

    [Fact]
    public async Task AKeptOtpAnswerHoldsNeitherTheCodeNorAPlainHashAndIsStillReplayed()
    {
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        var key = Guid.NewGuid().ToString();

        var first = await SendOtpAsync(tenant.Client, Otp, key);
        var retry = await SendOtpAsync(tenant.Client, Otp, key);
        var otherCode = await SendOtpAsync(tenant.Client, new { phone = "919876543210", template_name = "otp_verification", otp = "482914" }, key);

        var firstAnswer = await first.Content.ReadAsByteArrayAsync();
        Assert.Contains(Code, Encoding.UTF8.GetString(firstAnswer), StringComparison.Ordinal);
        Assert.Equal(firstAnswer, await retry.Content.ReadAsByteArrayAsync());
        Assert.Equal(["true"], retry.Headers.GetValues("Idempotent-Replayed"));
        await otherCode.AssertErrorAsync(HttpStatusCode.UnprocessableEntity, "IDEMPOTENCY_KEY_REUSED");

        await server.WithDbAsync(async db =>
        {
            var kept = await db.IdempotentAnswers.SingleAsync(a => a.ApiKeyId == tenant.KeyId);
            var message = await db.Messages.SingleAsync(m => m.ApiKeyId == tenant.KeyId);
            Assert.DoesNotContain(Code, Encoding.Latin1.GetString(kept.ProtectedBody), StringComparison.Ordinal);
            Assert.NotEqual((byte)'{', kept.ProtectedBody[0]);
            // A plain SHA-256 is 32 bytes; encrypted, it is several times that.
            Assert.True(kept.ProtectedRequestSha256.Length > 32, $"{kept.ProtectedRequestSha256.Length} bytes");
            Assert.True(message.ProtectedIdempotencyRequestSha256!.Length > 32, $"{message.ProtectedIdempotencyRequestSha256.Length} bytes");
        });
    }

    [Fact]
    public async Task AnswersAnEarlierVersionKeptInPlainTextAreStillReplayedAndStillBindTheirRequest()
    {
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        var key = Guid.NewGuid().ToString();
        var firstAnswer = await (await SendOtpAsync(tenant.Client, Otp, key)).Content.ReadAsByteArrayAsync();
        // What a version before encryption left: the body and the hashes in plain.
        var protector = server.Services.GetRequiredService<IdempotencyProtector>();
        await server.WithDbAsync(async db =>
        {
            var kept = await db.IdempotentAnswers.SingleAsync(a => a.ApiKeyId == tenant.KeyId);
            var message = await db.Messages.SingleAsync(m => m.ApiKeyId == tenant.KeyId);
            kept.ProtectedBody = protector.UnprotectAnswer(kept.ProtectedBody)!;
            kept.ProtectedRequestSha256 = protector.UnprotectRequestHash(kept.ProtectedRequestSha256)!;
            message.ProtectedIdempotencyRequestSha256 = protector.UnprotectRequestHash(message.ProtectedIdempotencyRequestSha256!)!;
            Assert.Equal(32, kept.ProtectedRequestSha256.Length);
            await db.SaveChangesAsync();
        });

        var retry = await SendOtpAsync(tenant.Client, Otp, key);
        var otherCode = await SendOtpAsync(tenant.Client, new { phone = "919876543210", template_name = "otp_verification", otp = "482914" }, key);

        Assert.Equal(firstAnswer, await retry.Content.ReadAsByteArrayAsync());
        await otherCode.AssertErrorAsync(HttpStatusCode.UnprocessableEntity, "IDEMPOTENCY_KEY_REUSED");
    }

    [Fact]
    public async Task AKeptAnswerThisKeyRingCannotReadIsAnsweredOutcomeUnknownAndSendsNothing()
    {
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        var key = Guid.NewGuid().ToString();
        var first = await (await SendOtpAsync(tenant.Client, Otp, key)).ReadJsonAsync(HttpStatusCode.OK);
        // What a database restored without its key ring folder holds: values no key here decrypts.
        var unreadable = Enumerable.Repeat((byte)0x09, 80).ToArray();
        await server.WithDbAsync(async db =>
        {
            await db.IdempotentAnswers.ExecuteUpdateAsync(set => set.SetProperty(a => a.ProtectedBody, unreadable).SetProperty(a => a.ProtectedRequestSha256, unreadable));
            await db.Messages.ExecuteUpdateAsync(set => set.SetProperty(m => m.ProtectedIdempotencyRequestSha256, unreadable));
        });

        var retry = await SendOtpAsync(tenant.Client, Otp, key);
        var otherCode = await SendOtpAsync(tenant.Client, new { phone = "919876543210", template_name = "otp_verification", otp = "482914" }, key);

        foreach (var answer in new[] { retry, otherCode })
        {
            var unknown = await answer.AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE");
            Assert.Equal(first.GetProperty("message_id").GetString(), unknown.GetProperty("message_id").GetString());
        }

        var messages = 0;
        await server.WithDbAsync(async db => messages = await db.Messages.CountAsync(m => m.ApiKeyId == tenant.KeyId));
        Assert.Equal(1, messages);
        Assert.Contains(server.Logs.Events, e => e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture).StartsWith(
            $"The kept answer to the send with Idempotency-Key \"{key}\" cannot be decrypted", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheLogNamesTheRingKeyAnUnreadableKeptAnswerWasEncryptedWith()
    {
        // The operator's way back is the key ring folder holding that key's file (key-{id}.xml): the id must be the one written.
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        var key = Guid.NewGuid().ToString();
        await (await SendOtpAsync(tenant.Client, Otp, key)).ReadJsonAsync(HttpStatusCode.OK);
        var missingRingKey = Guid.NewGuid();
        await server.WithDbAsync(async db =>
        {
            var kept = await db.IdempotentAnswers.SingleAsync(a => a.ApiKeyId == tenant.KeyId);
            var body = kept.ProtectedBody.ToArray();
            Assert.True(missingRingKey.TryWriteBytes(body.AsSpan(4, 16))); // after Data Protection's 4-byte magic header
            kept.ProtectedBody = body;
            await db.SaveChangesAsync();
        });

        await (await SendOtpAsync(tenant.Client, Otp, key)).AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE");

        Assert.Contains(server.Logs.Events, e => e.RenderMessage(System.Globalization.CultureInfo.InvariantCulture)
            .Contains($"has no key \"{missingRingKey}\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnUnreadableKeptAnswerWhoseMessageRowIsPastItsDaySendsNothing()
    {
        // The answer is kept a moment after its message row is made: at the 24-hour edge the row no longer counts, and the
        // kept answer, unreadable, is all that says the send went out.
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        var key = Guid.NewGuid().ToString();
        await (await SendOtpAsync(tenant.Client, Otp, key)).ReadJsonAsync(HttpStatusCode.OK);
        var unreadable = Enumerable.Repeat((byte)0x09, 80).ToArray();
        var pastItsDay = server.Clock.GetUtcNow().UtcDateTime - IdempotencyKeys.KeptFor - TimeSpan.FromSeconds(1);
        await server.WithDbAsync(async db =>
        {
            await db.IdempotentAnswers.ExecuteUpdateAsync(set => set.SetProperty(a => a.ProtectedBody, unreadable));
            await db.Messages.ExecuteUpdateAsync(set => set.SetProperty(m => m.CreatedAt, pastItsDay));
        });

        var retry = await SendOtpAsync(tenant.Client, Otp, key);

        var unknown = await retry.AssertErrorAsync(HttpStatusCode.BadGateway, "META_UNAVAILABLE");
        Assert.EndsWith("Meta accepted that send, so the message was sent.", unknown.GetProperty("error").GetString(), StringComparison.Ordinal);
        var messages = 0;
        await server.WithDbAsync(async db => messages = await db.Messages.CountAsync(m => m.ApiKeyId == tenant.KeyId));
        Assert.Equal(1, messages);
    }

    [Fact]
    public async Task AKeptAnswerIsEncryptedForThePurposeEarlierVersionsUsed()
    {
        // Data Protection derives a key per purpose: another purpose would leave the answers kept before an upgrade unreadable.
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        var answer = await (await SendOtpAsync(tenant.Client, Otp, Guid.NewGuid().ToString())).Content.ReadAsByteArrayAsync();
        var protector = server.Services.GetRequiredService<Microsoft.AspNetCore.DataProtection.IDataProtectionProvider>()
            .CreateProtector("TwaBot.Idempotency");

        await server.WithDbAsync(async db =>
            Assert.Equal(answer, protector.Unprotect((await db.IdempotentAnswers.SingleAsync(a => a.ApiKeyId == tenant.KeyId)).ProtectedBody)));
    }

    [Fact]
    public async Task AnswersPastTheir24HoursAreDroppedThoughTheKeyIsNeverUsedAgain()
    {
        // Keeping a new answer also drops the old ones; a business that stops sending must not keep its customers' codes for ever.
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        await (await SendOtpAsync(tenant.Client, Otp, "otp-old")).ReadJsonAsync(HttpStatusCode.OK);
        server.Clock.Advance(TimeSpan.FromHours(12));
        await (await SendOtpAsync(tenant.Client, new { phone = "919876543211", template_name = "otp_verification", otp = "551903" }, "otp-new"))
            .ReadJsonAsync(HttpStatusCode.OK);
        server.Clock.Advance(IdempotencyKeys.KeptFor - TimeSpan.FromHours(12)); // the first is 24 hours old, the second 12

        await server.Services.GetRequiredService<ExpiredAnswerSweeper>().SweepAsync(); // (the hourly run may have been first)

        var kept = new List<string>();
        await server.WithDbAsync(async db => kept = await db.IdempotentAnswers.Select(a => a.Key).ToListAsync());
        Assert.Equal(["otp-new"], kept);
    }

    [Fact]
    public async Task AnAnswerPastItsDayIsDroppedAtTheNextHourlyRun()
    {
        // Nothing calls the sweep here: its own hourly run drops the answer within the hour after the answer's day ends.
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        server.Clock.Advance(TimeSpan.FromMinutes(90)); // kept between two of the sweep's runs
        await (await SendOtpAsync(tenant.Client, Otp, "otp-old")).ReadJsonAsync(HttpStatusCode.OK);

        server.Clock.Advance(IdempotencyKeys.KeptFor - TimeSpan.FromMinutes(30));
        var withinItsDay = await SendOtpAsync(tenant.Client, Otp, "otp-old");
        Assert.Equal(["true"], withinItsDay.Headers.GetValues("Idempotent-Replayed"));
        server.Clock.Advance(TimeSpan.FromHours(1)); // half an hour past its day, and a run since

        await Poll.UntilAsync(async () => await AnswersKeptAsync(server) == 0, "the hourly run to drop the answer past its day");
    }

    [Fact]
    public async Task AnswersThatPassedTheir24HoursWhileTheServerWasStoppedAreDroppedAtStart()
    {
        var databasePath = Path.Combine(Path.GetTempPath(), $"twabot-test-{Guid.NewGuid():N}.db");
        await using (var before = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: databasePath) { DeleteDatabaseOnDispose = false })
        {
            var tenant = await before.CreateSendingTenantAsync();
            await (await SendOtpAsync(tenant.Client, Otp, "otp-old")).ReadJsonAsync(HttpStatusCode.OK);
            var dayAgo = before.Clock.GetUtcNow().UtcDateTime - IdempotencyKeys.KeptFor; // aged in the database: no run of this server drops it
            await before.WithDbAsync(db => db.IdempotentAnswers.ExecuteUpdateAsync(s => s.SetProperty(a => a.CreatedAt, dayAgo)));
        }

        await using var after = new TwaBotApiFactory(new Dictionary<string, string?>(), databasePath: databasePath);
        await after.Services.GetServices<IHostedService>().OfType<ExpiredAnswerSweeper>().Single().FirstRun.WaitAsync(Poll.Limit);

        Assert.Equal(0, await AnswersKeptAsync(after));
    }

    private static async Task<int> AnswersKeptAsync(TwaBotApiFactory server)
    {
        var count = 0;
        await server.WithDbAsync(async db => count = await db.IdempotentAnswers.CountAsync());
        return count;
    }

    private static async Task<HttpResponseMessage> SendOtpAsync(HttpClient client, object body, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/send-otp") { Content = JsonContent.Create(body) };
        Assert.True(request.Headers.TryAddWithoutValidation("Idempotency-Key", key));
        return await client.SendAsync(request);
    }
}
