using System.Net;
using System.Net.Http.Json;
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
    public async Task AnotherBusinesssSendIsAnsweredBetweenTheTurnsOfALargeSync()
    {
        // The sync wrote every template Meta listed in one turn at the gate: 10,000 of them kept every business's sends
        // waiting 3 to 7 s. Here the sync's first write is held (at the gate) while the other business sends.
        await using var server = new TemplateSavePausingServer();
        var large = await server.CreateSendingTenantAsync();
        var neighbour = await server.CreateSendingTenantAsync();
        const int AtMeta = 20 * TwaBot.Api.Admin.TemplatesAdmin.SyncTemplatesPerTurn;
        var wabaId = await WabaIdAsync(server, large.BusinessId);
        await server.WithDbAsync(async db =>
        {
            db.SandboxTemplates.AddRange(Enumerable.Range(0, AtMeta).Select(i => new SandboxTemplate
            {
                WabaId = wabaId, MetaId = (880_000_000_000_000 + i).ToString(System.Globalization.CultureInfo.InvariantCulture),
                Name = $"notice_{i:0000}", Language = "en", Category = "UTILITY", Status = "APPROVED", Body = "Notice {{1}}.",
            }));
            await db.SaveChangesAsync();
        });
        using var admin = server.CreateAdminClient();

        server.PauseNextTemplatesSave();
        var sync = admin.PostAsync($"/admin/v1/businesses/{large.BusinessId}/templates/sync", null);
        await server.Paused.WaitAsync(Poll.Limit); // the sync holds the gate, its first part of the list unsaved
        var send = neighbour.Client.PostAsJsonAsync("/api/v1/send-template",
            new { phone = "919812340002", template_name = "order_confirmation", body_params = new[] { "Rahul", "#1", "Friday" } });
        server.Resume();

        Assert.Equal(HttpStatusCode.OK, (await send.WaitAsync(Poll.SlowWorkLimit)).StatusCode);
        Assert.False(sync.IsCompleted); // answered between the sync's turns, not after its last

        var counts = await (await sync).ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal((AtMeta + 2, AtMeta, 0), (counts.GetProperty("total").GetInt32(), counts.GetProperty("created").GetInt32(),
            counts.GetProperty("removed").GetInt32()));
        await server.WithDbAsync(async db =>
            Assert.Equal(AtMeta + 2, await db.Templates.CountAsync(t => t.BusinessId == large.BusinessId && t.Status == "APPROVED")));
    }

    /// <summary>A server whose next save of templates, once armed, waits (holding whatever its caller holds) until resumed.</summary>
    private sealed class TemplateSavePausingServer : TwaBotApiFactory
    {
        private readonly TaskCompletionSource _paused = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _resume = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _armed;

        public Task Paused => _paused.Task;

        public void PauseNextTemplatesSave() => Volatile.Write(ref _armed, 1);

        public void Resume() => _resume.TrySetResult();

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
                if (eventData.Context?.ChangeTracker.Entries<Api.Templates.Template>().Any() == true
                    && Interlocked.Exchange(ref server._armed, 0) == 1)
                {
                    server._paused.TrySetResult();
                    await server._resume.Task;
                }

                return result;
            }
        }
    }
}
