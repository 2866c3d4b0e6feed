using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using TwaBot.Api.Businesses;
using TwaBot.Api.Conversations;
using TwaBot.Api.Data;
using TwaBot.Api.Templates;

namespace TwaBot.Api.Sending;

/// <summary>
/// What every send of a business reads and rarely changes: its WhatsApp connection, its approved
/// templates and its suppressed numbers, kept in memory per business. Any saved change to them drops
/// the whole cache (<see cref="SendLookupsInvalidation"/>, and <see cref="Invalidate"/> after the few
/// bulk deletes), so an opt-out stops the very next send; an entry also expires after a few seconds,
/// for changes made to the database from outside.
/// </summary>
public sealed class SendLookups
{
    private const long MaxAgeMilliseconds = 5_000;
    private readonly ConcurrentDictionary<long, Entry> _entries = new();
    private long _version;

    public void Invalidate()
    {
        Interlocked.Increment(ref _version);
        _entries.Clear();
    }

    public async Task<BusinessSendData> GetAsync(TwaBotDbContext db, long businessId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        // Read before loading: if a change lands while we load, the entry is already stale and reloads next time.
        var version = Volatile.Read(ref _version);
        if (_entries.TryGetValue(businessId, out var entry) && entry.Version == version
            && Environment.TickCount64 - entry.LoadedAt < MaxAgeMilliseconds)
        {
            return entry.Data;
        }

        var connection = await db.WhatsAppConnections.AsNoTracking().SingleOrDefaultAsync(w => w.BusinessId == businessId, cancellationToken);
        var templates = await db.Templates.AsNoTracking()
            .Where(t => t.BusinessId == businessId && t.Status == Template.Approved).ToListAsync(cancellationToken);
        var suppressions = await db.Suppressions.AsNoTracking().Where(x => x.BusinessId == businessId)
            .ToDictionaryAsync(x => x.Phone, x => x.State, StringComparer.Ordinal, cancellationToken);
        var data = new BusinessSendData(connection, templates, suppressions);
        _entries[businessId] = new Entry(data, version, Environment.TickCount64);
        return data;
    }

    private sealed record Entry(BusinessSendData Data, long Version, long LoadedAt);
}

/// <summary>A business's connection (null when not connected), approved templates and suppressions (phone → state).</summary>
public sealed record BusinessSendData(
    WhatsAppConnection? Connection, IReadOnlyList<Template> ApprovedTemplates, IReadOnlyDictionary<string, string> Suppressions)
{
    public Template? Approved(string name, string language) =>
        ApprovedTemplates.FirstOrDefault(t => t.Name == name && t.Language == language);
}

/// <summary>Drops <see cref="SendLookups"/> around every save that changes a connection, a template or a suppression.</summary>
public sealed class SendLookupsInvalidation(SendLookups lookups) : SaveChangesInterceptor
{
    private readonly ConditionalWeakTable<DbContext, object> _changing = [];

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Note(eventData.Context);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Note(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        Done(eventData.Context);
        return result;
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Done(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override void SaveChangesFailed(DbContextErrorEventData eventData) => Done(eventData.Context);

    public override Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Done(eventData.Context);
        return Task.CompletedTask;
    }

    private void Note(DbContext? context)
    {
        if (context is not null && context.ChangeTracker.Entries()
            .Any(e => e.Entity is WhatsAppConnection or Template or Suppression && e.State is EntityState.Added or EntityState.Modified or EntityState.Deleted))
        {
            _changing.AddOrUpdate(context, this);
            lookups.Invalidate(); // before: nobody keeps using what is about to change
        }
    }

    private void Done(DbContext? context)
    {
        if (context is not null && _changing.Remove(context))
        {
            lookups.Invalidate(); // after: drop anything loaded while the save was in flight
        }
    }
}
