using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Data;

namespace TwaBot.Api.Businesses;

/// <summary>
/// Businesses' Meta access tokens are stored encrypted with ASP.NET Core Data Protection, whose key ring
/// lives in a folder of its own (<see cref="KeyRing"/>), so the database alone (a backup, a dump, a copied
/// file) gives nobody a token. The server decrypts a token when it loads a connection to call Meta.
/// </summary>
public sealed partial class AccessTokenProtector(IDataProtectionProvider provider, KeyRing keyRing, ILogger<AccessTokenProtector> logger)
{
    // Marks an encrypted value. No well-formed token has a ':' (MetaAccessToken), so a stored value without
    // the mark is a token stored in plain text by a version before encryption.
    private const string Mark = "dp1:";

    private readonly IDataProtector _protector = provider.CreateProtector("TwaBot.WhatsAppConnection.AccessToken");

    public string Protect(string token) => Mark + _protector.Protect(token);

    /// <summary>
    /// The token of a stored connection, or null when this key ring cannot decrypt it (the folder was lost or
    /// replaced): logged as an error naming the business, since only the operator can mend it.
    /// </summary>
    public string? Unprotect(WhatsAppConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var token = TryUnprotect(connection.ProtectedAccessToken);
        if (token is null)
        {
            LogUnreadable(logger, connection.BusinessId, keyRing.Folder);
        }

        return token;
    }

    /// <summary>Whether this key ring can decrypt the connection's token; nothing is logged.</summary>
    public bool CanRead(WhatsAppConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return TryUnprotect(connection.ProtectedAccessToken) is not null;
    }

    private string? TryUnprotect(string stored)
    {
        if (!stored.StartsWith(Mark, StringComparison.Ordinal))
        {
            return null; // plain text is encrypted at every start (EncryptStoredAsync): this one was written from outside
        }

        try
        {
            return _protector.Unprotect(stored[Mark.Length..]);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    /// <summary>
    /// At start, after migrations: encrypts tokens stored in plain text by an older version, then rewrites the
    /// database file (VACUUM, and a checkpoint that empties the write-ahead log), since SQLite leaves old row
    /// contents in freed and unused page space; reports connections whose tokens this key ring cannot decrypt.
    /// </summary>
    public async Task EncryptStoredAsync(TwaBotDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var connections = await db.WhatsAppConnections.ToListAsync(cancellationToken);
        var plain = connections.Where(c => !c.ProtectedAccessToken.StartsWith(Mark, StringComparison.Ordinal)).ToList();
        if (plain.Count > 0)
        {
            // Marked first: a start stopped during the long rewrite below leaves the mark, and the next start rewrites.
            await SetRewritePendingAsync(db, true, cancellationToken);
            plain.ForEach(c => c.ProtectedAccessToken = Protect(c.ProtectedAccessToken));
            await db.SaveChangesAsync(cancellationToken);
            LogEncrypted(logger, plain.Count, keyRing.Folder);
        }

        if (await IsRewritePendingAsync(db, cancellationToken))
        {
            await RewriteFileAsync(db, cancellationToken);
        }

        var unreadable = connections.Except(plain).Count(c => TryUnprotect(c.ProtectedAccessToken) is null);
        if (unreadable > 0)
        {
            LogKeyRingMissing(logger, unreadable, connections.Count, keyRing.Folder);
        }

        LogKeyRing(logger, keyRing.Folder);
    }

    /// <summary>
    /// Once, at the upgrade that encrypted plain tokens (again at the next start if this one was stopped or failed): a
    /// VACUUM takes about as long as copying the file and needs as much free disk space. If it fails (a full disk), the
    /// server starts anyway and says how to do it by hand.
    /// </summary>
    private async Task RewriteFileAsync(TwaBotDbContext db, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await db.Database.ExecuteSqlRawAsync("VACUUM;", cancellationToken);
            await SetRewritePendingAsync(db, false, cancellationToken);
            await db.Database.ExecuteSqlRawAsync("PRAGMA wal_checkpoint(TRUNCATE);", cancellationToken);
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            LogRewritten(logger, seconds);
        }
        catch (SqliteException error)
        {
            var file = new SqliteConnectionStringBuilder(db.Database.GetConnectionString()).DataSource;
            LogNotRewritten(logger, error.Message, file);
        }
    }

    // The header's user_version, which nothing else in the file uses: 1 while plain tokens' old copies may remain.
    private static Task<int> SetRewritePendingAsync(TwaBotDbContext db, bool pending, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlRawAsync(pending ? "PRAGMA user_version = 1;" : "PRAGMA user_version = 0;", cancellationToken);

    private static async Task<bool> IsRewritePendingAsync(TwaBotDbContext db, CancellationToken cancellationToken) =>
        await db.Database.SqlQueryRaw<long>("SELECT user_version AS Value FROM pragma_user_version").SingleAsync(cancellationToken) == 1;

    [LoggerMessage(Level = LogLevel.Error, Message = "The Meta access token of business {BusinessId} cannot be decrypted with the key ring in {KeyRingFolder}: "
        + "restore that folder from the backup taken with the database (docs/operations.md), or connect the business's WhatsApp again")]
    private static partial void LogUnreadable(ILogger logger, long businessId, string keyRingFolder);

    [LoggerMessage(Level = LogLevel.Information, Message = "Encrypted {Count} Meta access tokens stored in plain text by an earlier version, with the key ring in {KeyRingFolder}")]
    private static partial void LogEncrypted(ILogger logger, int count, string keyRingFolder);

    [LoggerMessage(Level = LogLevel.Information, Message = "Rewrote the database file in {Seconds:0.0} s (VACUUM), so that no plain-text token is left in its free space")]
    private static partial void LogRewritten(ILogger logger, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not rewrite the database file ({Error}): plain-text tokens of the earlier version may remain in its free space; "
        + "with the server stopped and disk space free, run: sqlite3 {DataSource} VACUUM (docs/operations.md)")]
    private static partial void LogNotRewritten(ILogger logger, string error, string dataSource);

    [LoggerMessage(Level = LogLevel.Information, Message = "Meta access tokens are encrypted with the key ring in {KeyRingFolder}; back it up with the database")]
    private static partial void LogKeyRing(ILogger logger, string keyRingFolder);

    [LoggerMessage(Level = LogLevel.Critical, Message = "{Unreadable} of {Total} Meta access tokens cannot be decrypted with the key ring in {KeyRingFolder}: "
        + "those businesses cannot send until the folder is restored from the backup taken with the database (docs/operations.md), or their WhatsApp is connected again")]
    private static partial void LogKeyRingMissing(ILogger logger, int unreadable, int total, string keyRingFolder);
}
