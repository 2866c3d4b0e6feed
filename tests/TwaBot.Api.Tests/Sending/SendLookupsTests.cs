using System.Data.Common;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Data;
using TwaBot.Api.Sending;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Tests.Webhooks;

namespace TwaBot.Api.Tests.Sending;

/// <summary>Sends read connections and templates from a cache and each number's suppression from its row; every change must reach the very next send.</summary>
public class SendLookupsTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task ADisconnectedBusinessCannotSendOnTheNextRequest()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant)).StatusCode);
        using var admin = factory.CreateAdminClient();
        (await admin.DeleteAsync($"/admin/v1/businesses/{tenant.BusinessId}/whatsapp")).EnsureSuccessStatusCode();

        var refused = await (await SendAsync(tenant)).AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");

        // Not connected at all, not a stored token the server cannot read (the same code, another fix for the caller).
        Assert.Equal("WhatsApp is not connected for this business. Connect a WhatsApp Business number before sending.",
            refused.GetProperty("error").GetString());
    }

    [Fact]
    public async Task ATemplatePausedByMetaIsRefusedOnTheNextRequest()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant)).StatusCode);
        long templateId = 0;
        string wabaId = "";
        await factory.WithDbAsync(async db =>
        {
            var template = await db.Templates.SingleAsync(t => t.BusinessId == tenant.BusinessId && t.Name == "order_confirmation");
            templateId = long.Parse(template.MetaTemplateId!, System.Globalization.CultureInfo.InvariantCulture);
            wabaId = (await db.WhatsAppConnections.SingleAsync(w => w.BusinessId == tenant.BusinessId)).WabaId;
        });

        (await factory.PostWebhookAsync(MetaPayloads.Delivery(MetaPayloads.Entry(wabaId,
            MetaPayloads.TemplateStatus("PAUSED", "order_confirmation", "en", templateId))))).EnsureSuccessStatusCode();
        await factory.ApplyWebhooksAsync();

        await (await SendAsync(tenant)).AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
    }

    [Fact]
    public async Task StopAndStartReachTheNextSend()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant)).StatusCode);

        await factory.CustomerWritesAsync(tenant.BusinessId, "919876543210", "STOP");
        var refused = await (await SendAsync(tenant)).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
        Assert.Equal("opted_out", refused.GetProperty("suppression_state").GetString());

        await factory.CustomerWritesAsync(tenant.BusinessId, "919876543210", "START");
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant)).StatusCode);
    }

    [Fact]
    public async Task AdminSuppressionsReachTheNextSend()
    {
        var tenant = await factory.CreateSendingTenantAsync();
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant)).StatusCode);
        using var admin = factory.CreateAdminClient();

        (await admin.PostAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions", new { phone = "919876543210", state = "blocked" }))
            .EnsureSuccessStatusCode();
        await (await SendAsync(tenant)).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");

        (await admin.DeleteAsync($"/admin/v1/businesses/{tenant.BusinessId}/suppressions/919876543210")).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant)).StatusCode);
    }

    [Fact]
    public async Task ASuppressionWrittenBehindTheServersBackStopsTheVeryNextSend()
    {
        // Raw SQL runs no SaveChanges, so nothing is told of it: the send must read the number's row itself.
        var tenant = await factory.CreateSendingTenantAsync();
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant)).StatusCode);

        await factory.WithDbAsync(db => db.Database.ExecuteSqlInterpolatedAsync(
            $"INSERT INTO suppressions (business_id, phone, state, created_at) VALUES ({tenant.BusinessId}, '919876543210', 'undeliverable', '2026-01-01 00:00:00')"));
        var refused = await (await SendAsync(tenant)).AssertErrorAsync(HttpStatusCode.BadRequest, "SUPPRESSED");
        await factory.WithDbAsync(db => db.Database.ExecuteSqlInterpolatedAsync(
            $"DELETE FROM suppressions WHERE business_id = {tenant.BusinessId}"));
        var accepted = await SendAsync(tenant);

        Assert.Equal("undeliverable", refused.GetProperty("suppression_state").GetString());
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task AChangeToOneBusinessLeavesTheOthersCachedLookups()
    {
        var first = await factory.CreateSendingTenantAsync();
        var second = await factory.CreateSendingTenantAsync();
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(first)).StatusCode); // both businesses' templates are now cached
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(second)).StatusCode);
        // Behind the cache's back: a bulk update runs no SaveChanges, so nothing drops the second business's entry.
        await factory.WithDbAsync(db => db.Templates.Where(t => t.BusinessId == second.BusinessId)
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.Status, "PAUSED")));

        // A saved change to the first business's template drops its entry, and only its entry.
        await factory.WithDbAsync(async db =>
        {
            var template = await db.Templates.SingleAsync(t => t.BusinessId == first.BusinessId && t.Name == "order_confirmation");
            template.Status = "PAUSED";
            await db.SaveChangesAsync();
        });
        var firstAfterItsChange = await SendAsync(first);
        var stillCached = await SendAsync(second);
        factory.Services.GetRequiredService<SendLookups>().Invalidate(second.BusinessId);
        var reloaded = await SendAsync(second);

        await firstAfterItsChange.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
        Assert.Equal(HttpStatusCode.OK, stillCached.StatusCode);
        await reloaded.AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
    }

    [Fact]
    public async Task AConnectionLoadedWhileAConnectWasCommittingIsNotKept()
    {
        // A connect writes in a transaction: its saves drop the entry before the commit, and a send reading
        // meanwhile still sees the old rows (here: none) and kept them for seconds after the 200.
        await using var server = new ReadsWhileCommitting();
        var tenant = await server.CreateSendingTenantAsync();
        string phoneNumberId = "", wabaId = "";
        await server.WithDbAsync(async db =>
            (phoneNumberId, wabaId) = await db.WhatsAppConnections.Where(w => w.BusinessId == tenant.BusinessId)
                .Select(w => ValueTuple.Create(w.PhoneNumberId, w.WabaId)).SingleAsync());
        using var admin = server.CreateAdminClient();
        (await admin.DeleteAsync($"/admin/v1/businesses/{tenant.BusinessId}/whatsapp")).EnsureSuccessStatusCode();
        await (await SendAsync(tenant)).AssertErrorAsync(HttpStatusCode.BadRequest, "WHATSAPP_NOT_CONNECTED");

        server.ReadBeforeCommit = tenant.BusinessId;
        (await admin.PutAsJsonAsync($"/admin/v1/businesses/{tenant.BusinessId}/whatsapp",
            new { sandbox = true, phone_number_id = phoneNumberId, waba_id = wabaId })).EnsureSuccessStatusCode();

        Assert.Null(server.ReadBeforeCommit); // the send's read did happen before the commit
        await (await SendAsync(tenant)).ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task ATemplatePausedWhileTheLookupsWereLoadingIsRefusedOnTheNextSend()
    {
        // The pause is saved after the load read the templates and before it kept them: what it kept was already old.
        await using var server = new ChangesDuringLoads();
        var tenant = await server.CreateSendingTenantAsync();
        server.PauseWhileLoading = tenant.BusinessId;
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var loaded = await server.Services.GetRequiredService<SendLookups>()
                .GetAsync(scope.ServiceProvider.GetRequiredService<TwaBotDbContext>(), tenant.BusinessId, CancellationToken.None);
            Assert.NotNull(loaded.Approved("order_confirmation", "en")); // read before the pause
        }

        Assert.Null(server.PauseWhileLoading); // the pause was saved during that load
        await (await SendAsync(tenant)).AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
    }

    [Fact]
    public async Task ATemplateLoadedWhileItsPauseWasBeingSavedIsNotKept()
    {
        // No transaction of its own: the save's end, not a commit, must drop what a send loaded meanwhile.
        await using var server = new ChangesDuringLoads();
        var tenant = await server.CreateSendingTenantAsync();
        server.LoadWhileSaving = tenant.BusinessId;

        await server.WithDbAsync(async db =>
        {
            var template = await db.Templates.SingleAsync(t => t.BusinessId == tenant.BusinessId && t.Name == "order_confirmation");
            template.Status = "PAUSED";
            await db.SaveChangesAsync();
        });

        Assert.Null(server.LoadWhileSaving); // a load did run during the save
        await (await SendAsync(tenant)).AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
    }

    [Fact]
    public async Task ATemplatePausedBehindTheServersBackIsRefusedOnceTheKeptCopyExpires()
    {
        // A bulk update runs no SaveChanges: nothing drops the entry, so only its age (5 s) brings the change in.
        var tenant = await factory.CreateSendingTenantAsync();
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(tenant)).StatusCode);
        await factory.WithDbAsync(db => db.Templates.Where(t => t.BusinessId == tenant.BusinessId)
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.Status, "PAUSED")));

        await Poll.UntilAsync(async () => (await SendAsync(tenant)).StatusCode == HttpStatusCode.BadRequest,
            "the paused template to be refused", Poll.SlowWorkLimit, TimeSpan.FromMilliseconds(500));

        await (await SendAsync(tenant)).AssertErrorAsync(HttpStatusCode.BadRequest, "TEMPLATE_NOT_FOUND");
    }

    /// <summary>
    /// A server where, once armed, a template's pause is saved while a send's lookups load (after they read the templates),
    /// or a send's lookups load while a template change is being saved.
    /// </summary>
    private sealed class ChangesDuringLoads : TwaBotApiFactory
    {
        public long? PauseWhileLoading { get; set; }

        public long? LoadWhileSaving { get; set; }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services => services.ConfigureDbContext<TwaBotDbContext>(
                options => options.AddInterceptors(new PauseAfterTemplatesRead(this), new LoadDuringSave(this))));
        }

        private sealed class PauseAfterTemplatesRead(ChangesDuringLoads server) : DbCommandInterceptor
        {
            public override async ValueTask<InterceptionResult> DataReaderClosingAsync(
                DbCommand command, DataReaderClosingEventData eventData, InterceptionResult result)
            {
                if (server.PauseWhileLoading is { } businessId && command.CommandText.Contains("\"templates\"", StringComparison.Ordinal)
                    && command.CommandText.Contains(TwaBot.Api.Templates.Template.Approved, StringComparison.Ordinal))
                {
                    server.PauseWhileLoading = null;
                    await using var scope = server.Services.CreateAsyncScope();
                    var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
                    var template = await db.Templates.SingleAsync(t => t.BusinessId == businessId && t.Name == "order_confirmation");
                    template.Status = "PAUSED";
                    await db.SaveChangesAsync();
                }

                return result;
            }
        }

        private sealed class LoadDuringSave(ChangesDuringLoads server) : SaveChangesInterceptor
        {
            public override async ValueTask<InterceptionResult<int>> SavingChangesAsync(
                DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
            {
                if (server.LoadWhileSaving is { } businessId && eventData.Context?.ChangeTracker.Entries<TwaBot.Api.Templates.Template>().Any() == true)
                {
                    server.LoadWhileSaving = null;
                    await using var scope = server.Services.CreateAsyncScope();
                    await server.Services.GetRequiredService<SendLookups>()
                        .GetAsync(scope.ServiceProvider.GetRequiredService<TwaBotDbContext>(), businessId, cancellationToken);
                }

                return result;
            }
        }
    }

    /// <summary>A server where, once armed, a send's read of the business's lookups runs just before a transaction commits.</summary>
    private sealed class ReadsWhileCommitting : TwaBotApiFactory
    {
        public long? ReadBeforeCommit { get; set; }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services => services.ConfigureDbContext<TwaBotDbContext>(
                options => options.AddInterceptors(new ReadLookups(this))));
        }

        private sealed class ReadLookups(ReadsWhileCommitting server) : DbTransactionInterceptor
        {
            public override async ValueTask<InterceptionResult> TransactionCommittingAsync(
                DbTransaction transaction, TransactionEventData eventData,
                InterceptionResult result, CancellationToken cancellationToken = default)
            {
                if (server.ReadBeforeCommit is { } businessId)
                {
                    server.ReadBeforeCommit = null;
                    await using var scope = server.Services.CreateAsyncScope();
                    await server.Services.GetRequiredService<SendLookups>()
                        .GetAsync(scope.ServiceProvider.GetRequiredService<TwaBotDbContext>(), businessId, cancellationToken);
                }

                return result;
            }
        }
    }

    private static Task<HttpResponseMessage> SendAsync(SendingTenant tenant) => tenant.Client.PostAsJsonAsync("/api/v1/send-template",
        new { phone = "919876543210", template_name = "order_confirmation", body_params = new[] { "Rahul", "ORD-12345", "₹1,499" } });
}
