using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.ApiKeys;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.ApiKeys;

public class ApiKeyAuthenticationTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task MissingKeyReturns401MissingApiKey()
    {
        using var client = factory.CreateClient();

        var response = await client.GetAsync("/api/v1/health");

        var json = await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "MISSING_API_KEY");
        Assert.Contains("X-API-Key", json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("twb_your_api_key_here")]
    [InlineData("not-a-key")]
    public async Task MalformedKeyReturns401InvalidApiKey(string key)
    {
        using var client = factory.CreateApiClient(key);

        var response = await client.GetAsync("/api/v1/health");

        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "INVALID_API_KEY");
    }

    [Fact]
    public async Task WellFormedButUnknownKeyReturns401InvalidApiKey()
    {
        using var client = factory.CreateApiClient(ApiKeyFormat.Generate(ApiKeyFormat.TestPrefix));

        var response = await client.GetAsync("/api/v1/health");

        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "INVALID_API_KEY");
    }

    [Fact]
    public async Task ALiveKeyIsRefusedBySandboxServer()
    {
        using var client = factory.CreateApiClient(ApiKeyFormat.Generate(ApiKeyFormat.LivePrefix));

        var response = await client.GetAsync("/api/v1/health");

        var json = await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "INVALID_API_KEY");
        Assert.Contains("twb_test_", json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SandboxServerIssuesTestKeys()
    {
        var businessId = await factory.CreateBusinessAsync();

        var (key, _) = await factory.CreateApiKeyAsync(businessId);

        Assert.StartsWith("twb_test_", key, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RevokedKeyReturns401ApiKeyRevoked()
    {
        var businessId = await factory.CreateBusinessAsync();
        var (key, id) = await factory.CreateApiKeyAsync(businessId);
        using var client = factory.CreateApiClient(key);
        (await client.GetAsync("/api/v1/health")).EnsureSuccessStatusCode(); // now cached
        using var admin = factory.CreateAdminClient();

        (await admin.DeleteAsync($"/admin/v1/api-keys/{id}")).EnsureSuccessStatusCode();
        var response = await client.GetAsync("/api/v1/health");

        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "API_KEY_REVOKED");
    }

    [Fact]
    public async Task ExpiredKeyReturns401ApiKeyExpired()
    {
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        var expiresAt = factory.Clock.GetUtcNow().AddHours(1);
        var created = await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/api-keys",
            new { name = "Temp", permissions = new[] { "*" }, expires_at = expiresAt })).ReadJsonAsync(HttpStatusCode.Created);
        using var client = factory.CreateApiClient(created.GetProperty("api_key").GetProperty("key").GetString()!);
        (await client.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();

        factory.Clock.Advance(TimeSpan.FromHours(1));
        var response = await client.GetAsync("/api/v1/health");

        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "API_KEY_EXPIRED");
    }

    [Fact]
    public async Task ARevokedKeyPresentedAgainIsNoUseOfIt()
    {
        // docs/operations.md's rotation watches the old key's last_used_at: a request its key was refused for is no use of it.
        var businessId = await factory.CreateBusinessAsync();
        var (key, id) = await factory.CreateApiKeyAsync(businessId);
        using var admin = factory.CreateAdminClient();
        (await admin.DeleteAsync($"/admin/v1/api-keys/{id}")).EnsureSuccessStatusCode();
        using var client = factory.CreateApiClient(key);

        await (await client.GetAsync("/api/v1/health")).AssertErrorAsync(HttpStatusCode.Unauthorized, "API_KEY_REVOKED");

        Assert.Null(await LastUsedAt(id));
    }

    [Fact]
    public async Task AKeyRevokedAndExpiredIsAnsweredAsRevoked()
    {
        // PRODUCT.md §2's order: revoked comes before expired, so the operator's act is what the client is told.
        var businessId = await factory.CreateBusinessAsync();
        using var admin = factory.CreateAdminClient();
        var created = await (await admin.PostAsJsonAsync($"/admin/v1/businesses/{businessId}/api-keys",
            new { name = "Temp", permissions = new[] { "*" }, expires_at = factory.Clock.GetUtcNow().AddHours(1) })).ReadJsonAsync(HttpStatusCode.Created);
        var apiKey = created.GetProperty("api_key");
        (await admin.DeleteAsync($"/admin/v1/api-keys/{apiKey.GetProperty("id").GetInt64()}")).EnsureSuccessStatusCode();
        using var client = factory.CreateApiClient(apiKey.GetProperty("key").GetString()!);

        factory.Clock.Advance(TimeSpan.FromHours(1));
        var response = await client.GetAsync("/api/v1/health");

        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "API_KEY_REVOKED");
    }

    [Theory]
    [InlineData("   ")]
    [InlineData("\"   \"")] // quoted: the header's parser takes the quotes off and keeps the blanks
    public async Task ABlankKeyHeaderIsAMissingKey(string blank)
    {
        using var client = factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/health");
        Assert.True(request.Headers.TryAddWithoutValidation("X-API-Key", blank));

        var response = await client.SendAsync(request);

        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "MISSING_API_KEY");
    }

    [Fact]
    public async Task ABlankKeyHeaderLeavesQuickSendItsApikeyParameter()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var client = factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get,
            $"/api/v1/quick-send?apikey={tenant.Key}&phone=919876543210&template=order_confirmation&params=Rahul,ORD-1,x");
        Assert.True(request.Headers.TryAddWithoutValidation("X-API-Key", "   "));

        var response = await client.SendAsync(request);

        await response.ReadJsonAsync(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData(false)] // apikey=%20twb_test_…%20, a key pasted into a form builder with the blanks around it
    [InlineData(true)] // X-API-Key: " twb_test_… ", quoted: the header's parser takes the quotes off and keeps the blanks
    public async Task AKeyWithBlanksAroundItIsRead(bool inTheHeader)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var client = factory.CreateClient();
        var send = "/api/v1/quick-send?phone=919876543210&template=order_confirmation&params=Rahul,ORD-1,x";
        using var request = new HttpRequestMessage(HttpMethod.Get, inTheHeader ? send : $"{send}&apikey=%20{tenant.Key}%20");
        if (inTheHeader)
        {
            Assert.True(request.Headers.TryAddWithoutValidation("X-API-Key", $"\" {tenant.Key} \""));
        }

        var response = await client.SendAsync(request);

        await response.ReadJsonAsync(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // "k1, k2" in one line, as a proxy that appends to the header writes it
    public async Task AKeyHeaderGivenTwiceSaysSo(bool inOneLine)
    {
        var businessId = await factory.CreateBusinessAsync();
        var (key, _) = await factory.CreateApiKeyAsync(businessId);
        using var client = factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/health");
        request.Headers.TryAddWithoutValidation("X-API-Key", inOneLine ? [$"{key}, {key}"] : [key, key]);

        var response = await client.SendAsync(request);

        var json = await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "INVALID_API_KEY");
        Assert.Contains("X-API-Key is given more than once", json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("apikey={0}&apikey={0}")] // a form builder that appends apikey to a URL that already has it
    [InlineData("apikey={0},{0}")]        // two keys in one value, as the header reads "k1, k2"
    public async Task AnApikeyParameterGivenTwiceSaysSo(string keys)
    {
        // Neither key is picked silently.
        var tenant = await factory.CreateSendingTenantAsync();
        using var client = factory.CreateClient();

        var response = await client.GetAsync("/api/v1/quick-send?" + string.Format(CultureInfo.InvariantCulture, keys, tenant.Key)
            + "&phone=919876543210&template=order_confirmation&params=Rahul,ORD-1,x");

        var json = await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "INVALID_API_KEY");
        Assert.Contains("apikey is given more than once", json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("apikey=&apikey={0}")]    // a URL template's empty variable beside the key the tool appends
    [InlineData("apikey={0}&apikey=%20")]
    public async Task ABlankApikeyParameterBesideTheKeyIsNoSecondKey(string keys)
    {
        var tenant = await factory.CreateSendingTenantAsync();
        using var client = factory.CreateClient();

        var response = await client.GetAsync("/api/v1/quick-send?" + string.Format(CultureInfo.InvariantCulture, keys, tenant.Key)
            + "&phone=919876543210&template=order_confirmation&params=Rahul,ORD-1,x");

        await response.ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task TheApikeyQueryParameterIsNotAcceptedOutsideQuickSend()
    {
        var businessId = await factory.CreateBusinessAsync();
        var (key, _) = await factory.CreateApiKeyAsync(businessId);
        using var client = factory.CreateClient();

        var response = await client.GetAsync($"/api/v1/health?apikey={key}");

        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "MISSING_API_KEY");
    }

    [Theory]
    [InlineData("no key", "MISSING_API_KEY", "API key is required. Pass it in the X-API-Key header.")]
    [InlineData("no key on quick-send", "MISSING_API_KEY", "API key is required. Pass it in the X-API-Key header or the apikey query parameter.")]
    [InlineData("a blank apikey on quick-send", "MISSING_API_KEY", "API key is required. Pass it in the X-API-Key header or the apikey query parameter.")]
    [InlineData("the key in Authorization", "MISSING_API_KEY", "API key is required. Pass it in the X-API-Key header; the Authorization header is not read.")]
    [InlineData("the key in an apikey header", "MISSING_API_KEY", "API key is required. Pass it in the X-API-Key header; a header named apikey is not read.")]
    [InlineData("the key in an X-Api-Token header", "MISSING_API_KEY", "API key is required. Pass it in the X-API-Key header; a header named x-api-token is not read.")]
    [InlineData("apikey= off quick-send", "MISSING_API_KEY", "API key is required. Pass it in the X-API-Key header; the apikey query parameter (quick-send's only) is not read.")]
    [InlineData("Authorization on quick-send", "MISSING_API_KEY", "API key is required. Pass it in the X-API-Key header or the apikey query parameter; the Authorization header is not read.")]
    [InlineData("api_key= on quick-send", "MISSING_API_KEY", "API key is required. Pass it in the X-API-Key header or the apikey query parameter; the api_key query parameter is not read.")]
    [InlineData("X-API-Key= on quick-send", "MISSING_API_KEY", "API key is required. Pass it in the X-API-Key header or the apikey query parameter; the X-API-Key query parameter is not read.")]
    [InlineData("api-key= off quick-send", "MISSING_API_KEY", "API key is required. Pass it in the X-API-Key header; the api-key query parameter is not read.")]
    [InlineData("the key after Bearer", "INVALID_API_KEY", "Invalid API key: give the key alone, without \"Bearer \" before it.")]
    [InlineData("the key after a tab after Token", "INVALID_API_KEY", "Invalid API key: give the key alone, without \"Token \" before it.")]
    [InlineData("the key after bearer in lower case", "INVALID_API_KEY", "Invalid API key: give the key alone, without \"bearer \" before it.")]
    [InlineData("no key's shape", "INVALID_API_KEY", "Invalid API key.")]
    [InlineData("a live key", "INVALID_API_KEY", "Invalid API key. This server only accepts twb_test_ keys.")]
    [InlineData("two keys", "INVALID_API_KEY", "Invalid API key: X-API-Key is given more than once; give one key.")]
    [InlineData("a revoked key", "API_KEY_REVOKED", "This API key has been revoked. Generate a new key.")]
    [InlineData("an expired key", "API_KEY_EXPIRED", "This API key has expired. Generate a new key.")]
    public async Task EachRefusedKeyIsToldWhatIsWrongInTheDocsWords(string presented, string errorCode, string error)
    {
        var businessId = await factory.CreateBusinessAsync();
        var (key, id) = await factory.CreateApiKeyAsync(businessId);
        using var request = new HttpRequestMessage(HttpMethod.Get, presented switch
        {
            "no key on quick-send" => "/api/v1/quick-send?phone=919876543210&template=order_confirmation",
            "a blank apikey on quick-send" => "/api/v1/quick-send?apikey=&phone=919876543210&template=order_confirmation",
            "Authorization on quick-send" => "/api/v1/quick-send?phone=919876543210&template=order_confirmation",
            "apikey= off quick-send" => $"/api/v1/health?apikey={key}",
            "api_key= on quick-send" => $"/api/v1/quick-send?api_key={key}&phone=919876543210&template=order_confirmation",
            "X-API-Key= on quick-send" => $"/api/v1/quick-send?X-API-Key={key}&phone=919876543210&template=order_confirmation",
            "api-key= off quick-send" => $"/api/v1/health?api-key={key}",
            _ => "/api/v1/health",
        });
        switch (presented)
        {
            case "the key in Authorization" or "Authorization on quick-send":
                request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
                break;
            case "the key in an apikey header":
                request.Headers.Add("apikey", key);
                break;
            case "the key in an X-Api-Token header":
                request.Headers.Add("X-Api-Token", key);
                break;
            case "the key after Bearer":
                request.Headers.TryAddWithoutValidation("X-API-Key", "Bearer " + key);
                break;
            case "the key after a tab after Token":
                request.Headers.TryAddWithoutValidation("X-API-Key", "Token\t" + key);
                break;
            case "the key after bearer in lower case":
                request.Headers.TryAddWithoutValidation("X-API-Key", "bearer " + key);
                break;
            case "no key's shape":
                request.Headers.Add("X-API-Key", "twb_your_api_key_here");
                break;
            case "a live key":
                request.Headers.Add("X-API-Key", ApiKeyFormat.Generate(ApiKeyFormat.LivePrefix));
                break;
            case "two keys":
                request.Headers.Add("X-API-Key", [key, key]);
                break;
            case "a revoked key":
                using (var admin = factory.CreateAdminClient())
                {
                    (await admin.DeleteAsync($"/admin/v1/api-keys/{id}")).EnsureSuccessStatusCode();
                }
                request.Headers.Add("X-API-Key", key);
                break;
            case "an expired key":
                await factory.AdminPatchAsync($"/admin/v1/api-keys/{id}", new { expires_at = factory.Clock.GetUtcNow().AddMinutes(1) });
                factory.Clock.Advance(TimeSpan.FromMinutes(1));
                request.Headers.Add("X-API-Key", key);
                break;
        }

        using var client = factory.CreateClient();
        var json = await (await client.SendAsync(request)).AssertErrorAsync(HttpStatusCode.Unauthorized, errorCode);

        Assert.Equal(error, json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task OnlyTheHashOfAKeyIsStored()
    {
        var businessId = await factory.CreateBusinessAsync();
        var (key, id) = await factory.CreateApiKeyAsync(businessId);

        await factory.WithDbAsync(async db =>
        {
            var stored = await db.ApiKeys.SingleAsync(k => k.Id == id);
            Assert.Equal(ApiKeyFormat.Hash(key), stored.KeyHash);
            Assert.Equal(key[..15], stored.Prefix);
        });
        // The file itself, WAL included, never holds the key's secret part.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var secret = System.Text.Encoding.UTF8.GetBytes(key[15..]);
        foreach (var file in new[] { factory.DatabasePath, factory.DatabasePath + "-wal" }.Where(File.Exists))
        {
            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var memory = new MemoryStream();
            await stream.CopyToAsync(memory);
            Assert.Equal(-1, memory.ToArray().AsSpan().IndexOf(secret));
        }
    }

    [Fact]
    public async Task LastUsedAtIsWrittenAtMostOncePerMinute()
    {
        var businessId = await factory.CreateBusinessAsync();
        var (key, id) = await factory.CreateApiKeyAsync(businessId);
        using var client = factory.CreateApiClient(key);
        var first = factory.Clock.GetUtcNow().UtcDateTime;

        (await client.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();
        factory.Clock.Advance(TimeSpan.FromSeconds(30));
        (await client.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();
        var afterHalfAMinute = await LastUsedAt(id);
        factory.Clock.Advance(TimeSpan.FromSeconds(30));
        (await client.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();
        var afterAMinute = await LastUsedAt(id);

        Assert.Equal(first, afterHalfAMinute);
        Assert.Equal(first.AddSeconds(60), afterAMinute); // a full minute since the last write is time for the next
    }

    [Fact]
    public async Task LastUsedAtFollowsAClockSteppedBack()
    {
        // It used to stay at the time before the step until the clock caught up with it, an hour here.
        await using var server = new SteppedClockApiFactory(new Dictionary<string, string?>());
        var businessId = await server.CreateBusinessAsync();
        var (key, _) = await server.CreateApiKeyAsync(businessId);
        using var client = server.CreateApiClient(key);
        (await client.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();

        server.Step = TimeSpan.FromHours(-1);
        server.Clock.Advance(TimeSpan.FromMinutes(2));
        (await client.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();

        using var admin = server.CreateAdminClient();
        var keys = await (await admin.GetAsync($"/admin/v1/businesses/{businessId}/api-keys")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal("2026-04-14T09:32:45.000Z", Assert.Single(keys.GetProperty("api_keys").EnumerateArray()).GetProperty("last_used_at").GetString());
    }

    [Fact]
    public async Task LastUsedAtWaitsItsTurnAtTheWriteGate()
    {
        // Outside the gate, the write waited in SQLite's busy loop behind a webhook backlog being applied.
        var businessId = await factory.CreateBusinessAsync();
        var (_, id) = await factory.CreateApiKeyAsync(businessId);
        var usage = new ApiKeyUsage(
            factory.Services.GetRequiredService<IServiceScopeFactory>(), factory.Services.GetRequiredService<TwaBot.Api.Data.SqliteWriteGate>(), factory.Clock,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<ApiKeyUsage>.Instance);
        var gate = factory.Services.GetRequiredService<TwaBot.Api.Data.SqliteWriteGate>();

        Task recorded;
        using (await gate.EnterAsync(CancellationToken.None))
        {
            recorded = usage.RecordAsync(id).AsTask();
            await Task.Delay(300); // time enough to write, were it not waiting for the gate
            Assert.False(recorded.IsCompleted);
        }

        await recorded.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(factory.Clock.GetUtcNow().UtcDateTime, await LastUsedAt(id));
    }

    [Fact]
    public async Task ALastUseThatCouldNotBeWrittenIsNotTriedAgainByTheKeysNextRequestsThatMinute()
    {
        // Tried again at every request, each of the key's requests would wait MaxWait while the gate stays held.
        var businessId = await factory.CreateBusinessAsync();
        var (_, id) = await factory.CreateApiKeyAsync(businessId);
        var gate = factory.Services.GetRequiredService<TwaBot.Api.Data.SqliteWriteGate>();
        var logger = new Microsoft.Extensions.Logging.Testing.FakeLogger<ApiKeyUsage>();
        var usage = new ApiKeyUsage(factory.Services.GetRequiredService<IServiceScopeFactory>(), gate, factory.Clock, logger);

        using (await gate.EnterAsync(CancellationToken.None))
        {
            await usage.RecordAsync(id);
            await usage.RecordAsync(id);
        }

        Assert.Equal(1, logger.Collector.Count); // one write given up, not one per request
        Assert.Null(await LastUsedAt(id));
    }

    [Fact]
    public async Task AKeysFirstRequestOfTheMinuteIsAnsweredWhileTheWriteGateStaysHeld()
    {
        // The write waits its turn at the gate for MaxWait only, then the request goes on without it (ApiKeyUsage):
        // a read must not wait for a webhook backlog being applied, nor fail because its last use went unwritten.
        var businessId = await factory.CreateBusinessAsync();
        var (key, id) = await factory.CreateApiKeyAsync(businessId);
        using var client = factory.CreateApiClient(key);
        var gate = factory.Services.GetRequiredService<TwaBot.Api.Data.SqliteWriteGate>();

        using (await gate.EnterAsync(CancellationToken.None))
        {
            // Held until the answer came, so an answer that waited for the gate never comes.
            var read = await client.GetAsync("/api/v1/health").WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }

        Assert.Null(await LastUsedAt(id)); // not written: the key's first request a minute on tries again
        factory.Clock.Advance(ApiKeyUsage.Resolution);
        (await client.GetAsync("/api/v1/health")).EnsureSuccessStatusCode();
        Assert.Equal(factory.Clock.GetUtcNow().UtcDateTime, await LastUsedAt(id));
    }

    [Fact]
    public async Task LastUsedAtIsWrittenWhenTheCallerLeavesAsItIsWritten()
    {
        // The write took the request's token: a caller gone as it ran (a client's timeout while the gate was busy) left
        // it unwritten, and the key's next requests that minute wrote nothing either, so a key in use could look unused.
        await using var server = new CallerLeavesAtTheLastUseWrite();
        var businessId = await server.CreateBusinessAsync();
        var (key, id) = await server.CreateApiKeyAsync(businessId);
        using var client = server.CreateApiClient(key);
        server.LeaveAtTheNextWrite = true;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetAsync("/api/v1/health", server.CallerLeaves.Token));
        (await client.GetAsync("/api/v1/health")).EnsureSuccessStatusCode(); // the same minute: writes nothing of its own

        DateTime? lastUsed = null;
        await server.WithDbAsync(async db => lastUsed = await db.ApiKeys.Where(k => k.Id == id).Select(k => k.LastUsedAt).SingleAsync());
        Assert.Equal(server.Clock.GetUtcNow().UtcDateTime, lastUsed);
    }

    private async Task<DateTime?> LastUsedAt(long keyId)
    {
        DateTime? lastUsed = null;
        await factory.WithDbAsync(async db =>
            lastUsed = await db.ApiKeys.Where(k => k.Id == keyId).Select(k => k.LastUsedAt).SingleAsync());
        return lastUsed;
    }

    /// <summary>A server whose API client gives up (its request's token cancelled) as a key's last use is written.</summary>
    private sealed class CallerLeavesAtTheLastUseWrite : TwaBotApiFactory
    {
        public CancellationTokenSource CallerLeaves { get; } = new();

        public bool LeaveAtTheNextWrite { get; set; }

        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services =>
            {
                services.AddHttpContextAccessor();
                services.ConfigureDbContext<TwaBot.Api.Data.TwaBotDbContext>(options => options.AddInterceptors(new LeaveAtTheWrite(this)));
            });
        }

        public override async ValueTask DisposeAsync()
        {
            CallerLeaves.Dispose();
            await base.DisposeAsync();
        }

        private sealed class LeaveAtTheWrite(CallerLeavesAtTheLastUseWrite server) : Microsoft.EntityFrameworkCore.Diagnostics.DbCommandInterceptor
        {
            public override async ValueTask<Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<int>> NonQueryExecutingAsync(
                System.Data.Common.DbCommand command, Microsoft.EntityFrameworkCore.Diagnostics.CommandEventData eventData,
                Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<int> result, CancellationToken cancellationToken = default)
            {
                if (server.LeaveAtTheNextWrite && command.CommandText.Contains("\"last_used_at\" =", StringComparison.Ordinal))
                {
                    server.LeaveAtTheNextWrite = false;
                    var request = server.Services.GetRequiredService<Microsoft.AspNetCore.Http.IHttpContextAccessor>().HttpContext!;
                    await server.CallerLeaves.CancelAsync();
                    // The server sees its caller leave a moment later: the write then runs with the request's token cancelled.
                    await Poll.UntilAsync(() => request.RequestAborted.IsCancellationRequested, "the request's token cancelled");
                }

                return await base.NonQueryExecutingAsync(command, eventData, result, cancellationToken);
            }
        }
    }
}
