using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using TwaBot.Api.Data;
using TwaBot.Api.Webhooks;

namespace TwaBot.Api.Messages;

/// <summary>
/// <see cref="StatusReports"/> for code that works through EF Core (the webhook processor, the send
/// pipeline): the statements run on the context's own connection and in its current transaction.
/// </summary>
public sealed class MessageStatusWriter(TwaBotDbContext db, ParkedStatusSignal parked, SqliteWriteGate gate, TimeProvider time) : IAsyncDisposable
{
    private PreparedCommands? _commands;

    /// <summary>Applies the report, or parks it; returns the business of the message it found, or null when it parked it.</summary>
    public async Task<long?> ApplyAsync(long businessId, StatusUpdate status, CancellationToken cancellationToken) =>
        await StatusReports.ApplyAsync(await CommandsAsync(cancellationToken), parked, businessId, status, time.GetUtcNow().UtcDateTime, cancellationToken);

    /// <summary>
    /// Applies the parked reports of a message that now has its row and Meta id. Called by the send
    /// pipeline right after Meta accepted, and by the webhook processor for any left behind.
    /// </summary>
    public async Task<int> ApplyParkedAsync(long businessId, long messageId, string wamid, CancellationToken cancellationToken)
    {
        if (!parked.MayExist)
        {
            return 0;
        }

        var reports = await db.ParkedStatuses.AsNoTracking()
            .Where(p => p.BusinessId == businessId && p.Wamid == wamid) // a report is its message's by Meta's id, not by callback data
            .OrderBy(p => p.Id)
            .ToListAsync(cancellationToken);
        if (reports.Count == 0)
        {
            return 0; // the usual case while another message's reports are parked: no write, so no write lock
        }

        // Both callers (a send once Meta accepted, the processor's pass for leftovers) hold no turn at the gate here;
        // written outside it, these statements met the other writers in Microsoft.Data.Sqlite's busy loop (150 ms a try).
        using (await gate.EnterAsync(cancellationToken))
        {
            foreach (var report in reports)
            {
                await StatusReports.ApplyToMessageAsync(await CommandsAsync(cancellationToken), messageId, new StatusUpdate(
                    "", report.Wamid, report.Status, report.OccurredAt, null, null, report.ErrorCode, report.ErrorTitle, report.ErrorDetails),
                    wamidStored: false, time.GetUtcNow().UtcDateTime, cancellationToken);
            }

            // The send path and the processor can both load the same parked rows; applying one twice is
            // harmless (the history keeps it once, the status only moves forward), so whichever removes them
            // second finds them gone and carries on, instead of failing on EF's row-count check.
            var ids = reports.ConvertAll(p => p.Id);
            await db.ParkedStatuses.Where(p => ids.Contains(p.Id)).ExecuteDeleteAsync(cancellationToken);
        }

        return reports.Count;
    }

    /// <summary>The statements, on EF's connection and in its current transaction (if any); the webhook applier's too.</summary>
    internal async Task<PreparedCommands> CommandsAsync(CancellationToken cancellationToken)
    {
        if (_commands is null)
        {
            await db.Database.OpenConnectionAsync(cancellationToken);
            _commands = new PreparedCommands((SqliteConnection)db.Database.GetDbConnection());
        }

        _commands.Transaction = (SqliteTransaction?)db.Database.CurrentTransaction?.GetDbTransaction();
        return _commands;
    }

    public async ValueTask DisposeAsync()
    {
        if (_commands is not null)
        {
            await _commands.DisposeAsync();
            await db.Database.CloseConnectionAsync();
            _commands = null;
        }
    }
}
