using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Sandbox;
using TwaBot.Api.Tests.Infrastructure;
using static TwaBot.Api.Tests.Admin.TenantTemplates;

namespace TwaBot.Api.Tests.Admin;

/// <summary>
/// A sync of a WhatsApp account with thousands of templates shares the write gate with every other business's sends and
/// webhooks: it writes them a part at a time, so the others' writes go between its turns instead of after all of it.
/// </summary>
public class TemplateSyncTurnsTests
{
    [Fact]
    public async Task AnotherWriterGetsTheGateBetweenTheTurnsOfALargeSync()
    {
        // The sync wrote every template Meta listed in one turn at the gate: 10,000 of them kept every business's sends
        // waiting 3 to 7 s. Here another writer (a send's commit, say) queues at the gate while the sync's first turn is
        // held; when the turn ends it gets the gate at once, with only the first part of the list written.
        await using var server = new TemplateSavePausingServer();
        var large = await server.CreateSendingTenantAsync();
        const int AtMeta = 20 * TwaBot.Api.Admin.TemplatesAdmin.SyncTemplatesPerTurn;
        await AtMetaAsync(server, large.BusinessId, AtMeta);
        using var admin = server.CreateAdminClient();
        var gate = server.Services.GetRequiredService<Api.Data.SqliteWriteGate>();

        server.PauseNextTemplatesSave();
        var sync = admin.PostAsync($"/admin/v1/businesses/{large.BusinessId}/templates/sync", null);
        await server.Paused.WaitAsync(Poll.Limit); // the sync holds the gate, its first part of the list unsaved
        var another = gate.EnterAsync(CancellationToken.None); // queued behind the held turn, ahead of the sync's next
        server.Resume();

        using (await another.WaitAsync(Poll.SlowWorkLimit))
        {
            // Reads need no gate: what the sync wrote before letting this writer in.
            var written = 0;
            await server.WithDbAsync(async db => written = await db.Templates.CountAsync(t => t.BusinessId == large.BusinessId));
            Assert.InRange(written, 2, 2 + TwaBot.Api.Admin.TemplatesAdmin.SyncTemplatesPerTurn);
            Assert.False(sync.IsCompleted); // it waits for the gate this writer holds
        }

        var counts = await (await sync).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal((AtMeta + 2, AtMeta, 0), (counts.GetProperty("total").GetInt32(), counts.GetProperty("created").GetInt32(),
            counts.GetProperty("removed").GetInt32()));
        await server.WithDbAsync(async db =>
            Assert.Equal(AtMeta + 2, await db.Templates.CountAsync(t => t.BusinessId == large.BusinessId && t.Status == "APPROVED")));
    }

    [Fact]
    public async Task EveryTurnOfALargeSyncWritesWhatMetaChanged()
    {
        // Each turn reads its own part's rows again (the rows of an earlier turn's read are no longer tracked once it ends):
        // a change Meta made to a template past the first part is stored, not only counted.
        await using var server = new TwaBotApiFactory();
        var tenant = await server.CreateSendingTenantAsync();
        var wabaId = await AtMetaAsync(server, tenant.BusinessId, 2 * TwaBot.Api.Admin.TemplatesAdmin.SyncTemplatesPerTurn + 10);
        using var admin = server.CreateAdminClient();
        await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);
        await server.WithDbAsync(db => db.SandboxTemplates.Where(t => t.WabaId == wabaId).ExecuteUpdateAsync(set => set.SetProperty(t => t.Status, "PAUSED")));

        var counts = await (await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null)).ReadJsonAsync(HttpStatusCode.OK);

        Assert.Equal(Count(counts, "total"), Count(counts, "updated"));
        var approved = await (await tenant.Client.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Empty(approved.GetProperty("templates").EnumerateArray()); // every one paused, the last part's too
    }

    [Fact]
    public async Task ASyncThatFailsPartWayRetiresNothing()
    {
        // What Meta no longer lists is retired only after every listed template was written: a sync that fails between
        // its turns (the disk, here its second write) leaves every template that can be sent sendable.
        await using var server = new TemplateSavePausingServer();
        var tenant = await server.CreateSendingTenantAsync(); // order_confirmation and otp_verification on both sides
        var wabaId = await AtMetaAsync(server, tenant.BusinessId, 2 * TwaBot.Api.Admin.TemplatesAdmin.SyncTemplatesPerTurn);
        await server.WithDbAsync(db => db.SandboxTemplates.Where(t => t.WabaId == wabaId && t.Name == "otp_verification").ExecuteDeleteAsync());
        using var admin = server.CreateAdminClient();

        server.FailSecondTemplatesSave();
        var sync = await admin.PostAsync($"/admin/v1/businesses/{tenant.BusinessId}/templates/sync", null);

        Assert.False(sync.IsSuccessStatusCode);
        var approved = await (await tenant.Client.GetAsync("/api/v1/templates")).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Contains(approved.GetProperty("templates").EnumerateArray(), t => t.GetProperty("name").GetString() == "otp_verification");
    }

    /// <summary>Lists this many more approved templates at Meta for the business's WhatsApp account; answers its id.</summary>
    private static async Task<string> AtMetaAsync(TwaBotApiFactory server, long businessId, int count)
    {
        var wabaId = await WabaIdAsync(server, businessId);
        await server.WithDbAsync(async db =>
        {
            db.SandboxTemplates.AddRange(Enumerable.Range(0, count).Select(i => new SandboxTemplate
            {
                WabaId = wabaId, MetaId = (880_000_000_000_000 + i).ToString(System.Globalization.CultureInfo.InvariantCulture),
                Name = $"notice_{i:0000}", Language = "en", Category = "UTILITY", Status = "APPROVED", Body = "Notice {{1}}.",
            }));
            await db.SaveChangesAsync();
        });
        return wabaId;
    }

    /// <summary>
    /// A server whose next save of templates, once armed, waits (holding whatever its caller holds) until resumed, or
    /// whose second save of templates fails as a disk can.
    /// </summary>
    private sealed class TemplateSavePausingServer : TwaBotApiFactory
    {
        private readonly TaskCompletionSource _paused = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _resume = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _armed;
        private int _savesBeforeFailing = -1;

        public Task Paused => _paused.Task;

        public void PauseNextTemplatesSave() => Volatile.Write(ref _armed, 1);

        public void Resume() => _resume.TrySetResult();

        public void FailSecondTemplatesSave() => Volatile.Write(ref _savesBeforeFailing, 1);

        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services => services.ConfigureDbContext<Api.Data.TwaBotDbContext>(
                options => options.AddInterceptors(new TemplatesSave(this))));
        }

        private sealed class TemplatesSave(TemplateSavePausingServer server) : SaveChangesInterceptor
        {
            public override async ValueTask<InterceptionResult<int>> SavingChangesAsync(
                DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
            {
                var savesTemplates = eventData.Context?.ChangeTracker.Entries<Api.Templates.Template>().Any() == true;
                if (savesTemplates && Interlocked.Decrement(ref server._savesBeforeFailing) == -1)
                {
                    throw new Microsoft.Data.Sqlite.SqliteException("disk I/O error", 10);
                }

                if (savesTemplates && Interlocked.Exchange(ref server._armed, 0) == 1)
                {
                    server._paused.TrySetResult();
                    await server._resume.Task;
                }

                return result;
            }
        }
    }
}
