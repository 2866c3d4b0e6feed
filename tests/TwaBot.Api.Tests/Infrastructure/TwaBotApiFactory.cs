using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using Serilog.Core;
using TwaBot.Api.Businesses;
using TwaBot.Api.Data;

namespace TwaBot.Api.Tests.Infrastructure;

/// <summary>
/// The server as tests see it: its own SQLite file, a fake clock, captured log events, a known admin
/// key, and helpers that arrange state through the admin API. Settings can be overridden per factory.
/// </summary>
public class TwaBotApiFactory : WebApplicationFactory<Program>
{
    public const string AdminKey = "test-admin-key-0123456789abcdef";

    /// <summary>2026-04-14 10:30:45 UTC, the seed's example instant.</summary>
    public static readonly DateTimeOffset Start = new(2026, 4, 14, 10, 30, 45, TimeSpan.Zero);

    private readonly string _databasePath;
    private readonly Dictionary<string, string?> _settings;

    public TwaBotApiFactory() : this(new Dictionary<string, string?>())
    {
    }

    /// <summary>
    /// A server on <paramref name="databasePath"/> as it is, or when null on a new file: a copy of the migrated template
    /// (<see cref="MigratedDatabaseTemplate"/>), or with <paramref name="migrateItself"/> an empty file the server migrates
    /// at its start, for tests of that migration.
    /// </summary>
    // Internal: xunit needs exactly one public constructor on a class fixture.
    internal TwaBotApiFactory(
        IDictionary<string, string?> settings, string environment = "Development", string? databasePath = null, bool migrateItself = false)
    {
        Environment = environment;
        _databasePath = databasePath ?? Path.Combine(Path.GetTempPath(), $"twabot-test-{Guid.NewGuid():N}.db");
        if (databasePath is null && !migrateItself)
        {
            MigratedDatabaseTemplate.CopyTo(_databasePath);
        }

        _settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:TwaBot"] = $"Data Source={_databasePath}",
            ["TwaBot:AdminKey"] = AdminKey,
            // Tests of other features share one frozen clock; limits are tested with their own settings.
            ["TwaBot:RateLimits:GlobalPerMinute"] = "1000000",
            ["TwaBot:RateLimits:PerKeyPerMinute"] = "1000000",
            ["TwaBot:RateLimits:FailedAuthPerMinute"] = "1000000",
            // The emulator reports statuses at once; a test of the delays sets its own.
            ["TwaBot:Sandbox:StatusDelayMilliseconds"] = "0",
        };
        foreach (var (key, value) in settings)
        {
            _settings[key] = value;
        }
    }

    public string Environment { get; }

    public string DatabasePath => _databasePath;

    /// <summary>False to leave the database file for a second server (restart tests).</summary>
    public bool DeleteDatabaseOnDispose { get; set; } = true;

    public FakeTimeProvider Clock { get; } = new(Start);

    public CapturedLogs Logs { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(Environment);
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureServices(services =>
        {
            services.RemoveAll<TimeProvider>();
            services.AddSingleton<TimeProvider>(Clock);
            services.AddSingleton<ILogEventSink>(Logs);
            services.AddSingleton<Microsoft.AspNetCore.Hosting.IStartupFilter, ClientAddressFromHeader>();
            // The in-memory server has no socket: the sandbox's calls to itself go through its handler (a test
            // that runs the server on Kestrel instead gets real sockets).
            services.AddSingleton<Microsoft.Extensions.Options.IConfigureOptions<Microsoft.Extensions.Http.HttpClientFactoryOptions>, InMemoryServerHandlers>();
        });
    }

    /// <summary>A client whose requests come from <paramref name="address"/> (the in-memory server has none).</summary>
    public HttpClient CreateClientFrom(string address)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add(ClientAddressFromHeader.HeaderName, address);
        return client;
    }

    /// <summary>
    /// A bare connection to the server on Kestrel, for requests HttpClient will not make (a body half sent, a request
    /// line it would correct); the caller writes the request's bytes and reads the answer's.
    /// </summary>
    public async Task<System.Net.Sockets.TcpClient> ConnectRawAsync()
    {
        using var client = CreateClient();
        var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(client.BaseAddress!.Host, client.BaseAddress.Port);
        return socket;
    }

    /// <summary>A client that sends the admin key.</summary>
    public HttpClient CreateAdminClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("X-Admin-Key", AdminKey);
        return client;
    }

    /// <summary>A client that sends <paramref name="apiKey"/> as X-API-Key.</summary>
    public HttpClient CreateApiClient(string apiKey)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add("X-API-Key", apiKey);
        return client;
    }

    public async Task<long> CreateBusinessAsync(string plan = "Pro", string name = "Acme Stores", string? timeZone = null)
    {
        using var admin = CreateAdminClient();
        var response = await admin.PostAsJsonAsync("/admin/v1/businesses", new { name, plan, time_zone = timeZone });
        var json = await response.ReadJsonAsync(System.Net.HttpStatusCode.Created);
        return json.GetProperty("business").GetProperty("id").GetInt64();
    }

    /// <summary>A PATCH through the admin API that must succeed.</summary>
    public async Task AdminPatchAsync(string path, object body)
    {
        using var admin = CreateAdminClient();
        await (await admin.PatchAsJsonAsync(path, body)).ReadJsonAsync(System.Net.HttpStatusCode.OK);
    }

    /// <summary>Creates a key through the admin API and returns the key as shown once, with its id.</summary>
    public async Task<(string Key, long Id)> CreateApiKeyAsync(long businessId, string[]? permissions = null, string name = "My CRM")
    {
        using var admin = CreateAdminClient();
        var response = await admin.PostAsJsonAsync(
            $"/admin/v1/businesses/{businessId}/api-keys", new { name, permissions = permissions ?? ["*"] });
        var json = await response.ReadJsonAsync(System.Net.HttpStatusCode.Created);
        var apiKey = json.GetProperty("api_key");
        return (apiKey.GetProperty("key").GetString()!, apiKey.GetProperty("id").GetInt64());
    }

    /// <summary>A business with a key, ready to call /api/v1.</summary>
    public async Task<(long BusinessId, HttpClient Client, string Key)> CreateTenantAsync(string plan = "Pro", string name = "Acme Stores")
    {
        var businessId = await CreateBusinessAsync(plan, name);
        var (key, _) = await CreateApiKeyAsync(businessId);
        return (businessId, CreateApiClient(key), key);
    }

    /// <summary>Connects the business to WhatsApp (a sandbox connection) and returns its phone_number_id.</summary>
    public async Task<string> ConnectWhatsAppAsync(long businessId, string? phoneNumberId = null)
    {
        using var admin = CreateAdminClient();
        var response = await admin.PutAsJsonAsync($"/admin/v1/businesses/{businessId}/whatsapp",
            phoneNumberId is null
                ? new { sandbox = true }
                : (object)new { phone_number_id = phoneNumberId, waba_id = "102290129340398", access_token = "test-token" });
        var json = await response.ReadJsonAsync(System.Net.HttpStatusCode.OK);
        return json.GetProperty("business").GetProperty("whatsapp").GetProperty("phone_number_id").GetString()!;
    }

    /// <summary>Posts a webhook delivery signed with the server's app secret, as Meta would.</summary>
    public async Task<HttpResponseMessage> PostWebhookAsync(string body, string? signature = null)
    {
        using var client = CreateClient();
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        content.Headers.Add(TwaBot.Api.Webhooks.WebhookSignature.HeaderName,
            signature ?? TwaBot.Api.Webhooks.WebhookSignature.Sign(System.Text.Encoding.UTF8.GetBytes(body), AppSecret));
        return await client.PostAsync("/webhooks/meta", content);
    }

    public Task<HttpResponseMessage> PostWebhookAsync(System.Text.Json.Nodes.JsonNode payload) => PostWebhookAsync(payload.ToJsonString());

    /// <summary>Runs <paramref name="sql"/> on the webhook inbox file (its own SQLite file beside the database).</summary>
    public async Task InboxSqlAsync(string sql)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection(
            $"Data Source={TwaBot.Api.Webhooks.WebhookInboxFile.PathBeside(DatabasePath)};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Posts these exact bytes (not necessarily UTF-8), signed as Meta would.</summary>
    public async Task<HttpResponseMessage> PostWebhookAsync(byte[] body)
    {
        using var client = CreateClient();
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        content.Headers.Add(TwaBot.Api.Webhooks.WebhookSignature.HeaderName, TwaBot.Api.Webhooks.WebhookSignature.Sign(body, AppSecret));
        return await client.PostAsync("/webhooks/meta", content);
    }

    /// <summary>
    /// Applies every stored webhook event now (instead of waiting for the background loop). Bounded in real time: a pass
    /// that never ends (a retry scan whose cursor stops moving reads its last row for ever) is cancelled and fails the
    /// test instead of hanging the suite. A token, not a timed wait: SQLite's reads complete synchronously, so such a pass
    /// never hands its task back to be timed, but it does look at its token between batches.
    /// </summary>
    public async Task<int> ApplyWebhooksAsync()
    {
        using var limit = new CancellationTokenSource(Poll.WebhookPassLimit);
        try
        {
            var applied = await Services.GetRequiredService<TwaBot.Api.Webhooks.WebhookProcessor>().ProcessPendingAsync(limit.Token);
            if (!limit.IsCancellationRequested)
            {
                return applied;
            }
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
            // the limit, reported below
        }

        throw new TimeoutException($"A webhook pass did not end within {Poll.WebhookPassLimit.TotalSeconds} s.");
    }

    public string AppSecret => Services.GetRequiredService<TwaBot.Api.Meta.MetaAppSecret>().Value;

    /// <summary>
    /// A business ready to send: connected to the sandbox emulator, with the docs' order_confirmation and
    /// an otp_verification template (approved on both sides), and a key with the given permissions.
    /// </summary>
    public async Task<SendingTenant> CreateSendingTenantAsync(string plan = "Pro", string[]? permissions = null)
    {
        var businessId = await CreateBusinessAsync(plan);
        await ConnectWhatsAppAsync(businessId);
        await WithDbAsync(async db =>
        {
            var connection = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleAsync(
                db.WhatsAppConnections, w => w.BusinessId == businessId);
            foreach (var template in TwaBot.Api.Sandbox.SandboxSeeder.SeedTemplates(businessId, Clock.GetUtcNow().UtcDateTime))
            {
                db.Templates.Add(template);
                db.SandboxTemplates.Add(new TwaBot.Api.Sandbox.SandboxTemplate
                {
                    WabaId = connection.WabaId, MetaId = template.MetaTemplateId!, Name = template.Name, Language = template.Language,
                    Category = template.Category, Status = template.Status, Body = template.Content, FooterText = template.FooterText,
                });
            }

            await db.SaveChangesAsync();
        });
        var (key, keyId) = await CreateApiKeyAsync(businessId, permissions);
        return new SendingTenant(businessId, keyId, key, CreateApiClient(key));
    }

    /// <summary>A customer message arrives for the business (through the sandbox's signed webhook) and is applied.</summary>
    public async Task CustomerWritesAsync(long businessId, string from, string text = "Hi", DateTimeOffset? at = null)
    {
        using var admin = CreateAdminClient();
        var response = await admin.PostAsJsonAsync("/sandbox/v1/inbound",
            new { business_id = businessId, from, text, timestamp = (at ?? Clock.GetUtcNow()).ToUnixTimeSeconds() });
        Assert.True((await response.ReadJsonAsync(System.Net.HttpStatusCode.OK)).GetProperty("delivered").GetBoolean());
        await ApplyWebhooksAsync();
    }

    /// <summary>
    /// Waits for the emulator's status webhooks to be delivered, then applies them. Bounded in real time, so that a
    /// sender that never reports itself idle fails the test instead of hanging the suite.
    /// </summary>
    public async Task SettleStatusesAsync()
    {
        await Services.GetRequiredService<TwaBot.Api.Sandbox.SandboxWebhookSender>().WhenIdleAsync().WaitAsync(Poll.SlowWorkLimit);
        await ApplyWebhooksAsync();
    }

    /// <summary>
    /// With a status delay configured: moves the clock by <paramref name="step"/> until the emulator has
    /// sent every report (each report's timer starts only after the previous one was delivered), then
    /// applies them. Bounded (in real time, which a loaded machine may need for the deliveries between the
    /// steps), so a regression fails instead of hanging.
    /// </summary>
    public async Task AdvanceUntilStatusesSettleAsync(TimeSpan step)
    {
        var idle = Services.GetRequiredService<TwaBot.Api.Sandbox.SandboxWebhookSender>().WhenIdleAsync();
        await Poll.UntilAsync(async () =>
        {
            if (!idle.IsCompleted)
            {
                Clock.Advance(step);
                await Task.WhenAny(idle, Task.Delay(TimeSpan.FromMilliseconds(100))); // the next report's delivery, or the next step
            }

            return idle.IsCompleted;
        }, "the emulator to deliver every status report", Poll.SlowWorkLimit);
        await SettleStatusesAsync();
    }

    /// <summary>Direct database access for arranging what the API cannot create yet, and for checking what was stored.</summary>
    public async Task WithDbAsync(Func<TwaBotDbContext, Task> action)
    {
        ArgumentNullException.ThrowIfNull(action);
        await using var scope = Services.CreateAsyncScope();
        await action(scope.ServiceProvider.GetRequiredService<TwaBotDbContext>());
    }

    /// <summary>The business's Meta access token, decrypted as the server decrypts it (null when it cannot be).</summary>
    public async Task<string?> AccessTokenOfAsync(long businessId)
    {
        string? token = null;
        await WithDbAsync(async db => token = Services.GetRequiredService<AccessTokenProtector>().Unprotect(
            await db.WhatsAppConnections.AsNoTracking().SingleAsync(w => w.BusinessId == businessId)));
        return token;
    }

    /// <summary>A token as the server stores it, for arranging connections by hand.</summary>
    public string ProtectAccessToken(string token) => Services.GetRequiredService<AccessTokenProtector>().Protect(token);

    /// <summary>
    /// Whether a delivery with this body is stored: in the webhook inbox file, or already moved into
    /// <c>webhook_events</c>. The inbox file is read first, because a delivery leaves it only once it is
    /// committed in <c>webhook_events</c>, so a delivery being moved is never missed.
    /// </summary>
    public async Task<bool> IsStoredAsync(byte[] body)
    {
        var (inInbox, inEvents) = await StoredCopiesAsync(body);
        return inInbox + inEvents > 0;
    }

    /// <summary>How many times the body is in <c>webhook_events</c>, once nothing is left in the inbox file.</summary>
    public async Task<int> MovedCountAsync(byte[] body)
    {
        var (inInbox, inEvents) = await StoredCopiesAsync(body);
        Assert.Equal(0, inInbox);
        return inEvents;
    }

    private async Task<(int InInbox, int InEvents)> StoredCopiesAsync(byte[] body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var hash = System.Security.Cryptography.SHA256.HashData(body);
        long inInbox;
        await using (var connection = await Services.GetRequiredService<TwaBot.Api.Webhooks.WebhookInboxFile>().Connections.OpenAsync(CancellationToken.None))
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT count(*) FROM webhook_inbox WHERE body_sha256 = $hash";
            command.Parameters.AddWithValue("$hash", hash);
            inInbox = (long)(await command.ExecuteScalarAsync())!;
        }

        var inEvents = 0;
        await WithDbAsync(async db => inEvents = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.CountAsync(
            db.WebhookEvents, e => e.BodySha256 == hash));
        return ((int)inInbox, inEvents);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (DeleteDatabaseOnDispose)
        {
            DatabaseFiles.Delete(_databasePath);
        }

        GC.SuppressFinalize(this);
    }
}

public sealed record SendingTenant(long BusinessId, long KeyId, string Key, HttpClient Client);
