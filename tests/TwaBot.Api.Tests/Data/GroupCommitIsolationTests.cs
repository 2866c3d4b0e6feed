using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Data;
using TwaBot.Api.Messages;
using TwaBot.Api.Tests.Infrastructure;
using TwaBot.Api.Tests.Webhooks;

namespace TwaBot.Api.Tests.Data;

/// <summary>Requests whose rows share a group commit do not fail together because one of those rows breaks a constraint.</summary>
public class GroupCommitIsolationTests(TwaBotApiFactory factory) : IClassFixture<TwaBotApiFactory>
{
    [Fact]
    public async Task ARowBreakingAConstraintFailsOnlyItselfNotTheRowsSharingItsCommit()
    {
        var (_, businessId) = await factory.ConnectedBusinessAsync();
        await factory.InsertMessageAsync(businessId, "wamid.isolation-taken");
        var first = await factory.InsertMessageAsync(businessId, wamid: null);
        var clashing = await factory.InsertMessageAsync(businessId, wamid: null);
        var third = await factory.InsertMessageAsync(businessId, wamid: null);
        var log = factory.Services.GetRequiredService<MessageLog>();
        var at = factory.Clock.GetUtcNow().UtcDateTime;

        Task blocker, clash, fine;
        using (await factory.Services.GetRequiredService<SqliteWriteGate>().EnterAsync(CancellationToken.None))
        {
            // The writer takes the first write and waits for the gate; the next two queue meanwhile and share a commit.
            blocker = log.WriteAsync(new MessageWrite.Accepted(first, "wamid.isolation-first", at));
            await Task.Delay(300); // time for the writer to take it alone (nothing public shows that it has)
            clash = log.WriteAsync(new MessageWrite.Accepted(clashing, "wamid.isolation-taken", at)); // a wamid already kept
            fine = log.WriteAsync(new MessageWrite.Accepted(third, "wamid.isolation-third", at));
        }

        await blocker;
        await fine;
        await Assert.ThrowsAsync<SqliteException>(() => clash);
        await factory.WithDbAsync(async db =>
        {
            var wamids = await db.Messages.Where(m => m.Id == clashing || m.Id == third).OrderBy(m => m.Id).Select(m => m.Wamid).ToListAsync();
            Assert.Equal([null, "wamid.isolation-third"], wamids);
        });
    }
}
