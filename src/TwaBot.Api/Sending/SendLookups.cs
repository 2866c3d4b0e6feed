using System.Collections.Concurrent;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using TwaBot.Api.Businesses;
using TwaBot.Api.Data;
using TwaBot.Api.Meta;
using TwaBot.Api.Templates;

namespace TwaBot.Api.Sending;

/// <summary>
/// What every send of a business reads and rarely changes: its WhatsApp connection and its approved
/// templates, kept in memory per business. A saved change to them drops that business's entry
/// (<see cref="SendLookupsInvalidation"/> as a save begins, ends and commits; <see cref="Invalidate"/> after a template
/// create's bulk update, which runs no save), so the
/// very next send sees it, and a change to one business never makes the others reload; an entry also
/// expires after a few seconds, for changes made to the database from outside. Suppressions are not
/// kept here: a business's list can be very large, and each send reads only its own number's row
/// (<see cref="SuppressionLookup"/>).
/// </summary>
public sealed class SendLookups(AccessTokenProtector tokens)
{
    private const long MaxAgeMilliseconds = 5_000;
    private readonly ConcurrentDictionary<long, Entry> _entries = new();
    private readonly ConcurrentDictionary<long, long> _versions = new(); // per business, one more for each change

    /// <summary>Drops what is kept for the business; a load of it already under way is not kept either.</summary>
    public void Invalidate(long businessId)
    {
        _versions.AddOrUpdate(businessId, 1, (_, version) => version + 1);
        _entries.TryRemove(businessId, out _);
    }

    public async Task<BusinessSendData> GetAsync(TwaBotDbContext db, long businessId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        // Read before loading: if a change lands while we load, the entry is already stale and reloads next time.
        var version = _versions.GetValueOrDefault(businessId);
        if (_entries.TryGetValue(businessId, out var entry) && entry.Version == version
            && Environment.TickCount64 - entry.LoadedAt < MaxAgeMilliseconds)
        {
            return entry.Data;
        }

        var stored = await db.WhatsAppConnections.AsNoTracking().SingleOrDefaultAsync(w => w.BusinessId == businessId, cancellationToken);
        var templates = await db.Templates.AsNoTracking()
            .Where(t => t.BusinessId == businessId && t.Status == Template.Approved).ToListAsync(cancellationToken);
        // Decrypted here, once per load rather than once per send.
        var data = new BusinessSendData(stored is not null, stored is null ? null : MetaConnection.Open(stored, tokens), templates);
        _entries[businessId] = new Entry(data, version, Environment.TickCount64);
        return data;
    }

    private sealed record Entry(BusinessSendData Data, long Version, long LoadedAt);
}

/// <summary>
/// A business's approved templates and its connection: null when not connected, or when connected with a token the
/// server cannot decrypt (<see cref="AccessTokenProtector"/>).
/// </summary>
public sealed record BusinessSendData(bool IsConnected, MetaConnection? Connection, IReadOnlyList<Template> ApprovedTemplates)
{
    public Template? Approved(string name, string language) =>
        ApprovedTemplates.FirstOrDefault(t => t.Name == name && t.Language == language);
}

/// <summary>
/// Drops the entries of <see cref="SendLookups"/> around every save that changes a connection or a
/// template, for the businesses whose rows change, and again when the transaction a save ran in ends.
/// </summary>
public sealed class SendLookupsInvalidation(SendLookups lookups) : SaveChangesInterceptor, IDbTransactionInterceptor
{
    private readonly ConditionalWeakTable<DbContext, long[]> _changing = [];
    private readonly ConditionalWeakTable<DbContext, HashSet<long>> _uncommitted = [];

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
        var businesses = context?.ChangeTracker.Entries()
            .Where(e => e.State is EntityState.Added or EntityState.Modified or EntityState.Deleted)
            .Select(e => e.Entity switch
            {
                WhatsAppConnection connection => connection.BusinessId,
                Template template => template.BusinessId,
                _ => (long?)null,
            })
            .OfType<long>().Distinct().ToArray();
        if (businesses is { Length: > 0 })
        {
            _changing.AddOrUpdate(context!, businesses);
            Array.ForEach(businesses, lookups.Invalidate); // before: nobody keeps using what is about to change
        }
    }

    private void Done(DbContext? context)
    {
        if (context is not null && _changing.TryGetValue(context, out var businesses) && _changing.Remove(context))
        {
            Array.ForEach(businesses, lookups.Invalidate); // after: drop anything loaded while the save was in flight
            if (context.Database.CurrentTransaction is not null)
            {
                // Not committed yet: until it is, sends still read the old rows, and would keep them.
                _uncommitted.GetOrCreateValue(context).UnionWith(businesses);
            }
        }
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Ended(eventData.Context);

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Ended(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Ended(eventData.Context);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Ended(eventData.Context);
        return Task.CompletedTask;
    }

    private void Ended(DbContext? context)
    {
        if (context is not null && _uncommitted.TryGetValue(context, out var businesses) && _uncommitted.Remove(context))
        {
            foreach (var business in businesses)
            {
                lookups.Invalidate(business); // drop anything loaded from before the commit
            }
        }
    }
}
