using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Data;

namespace TwaBot.Api.Meta;

/// <summary>
/// The WhatsApp numbers whose token Meta refused (code 190, OAuth, permissions), so that <c>/api/v1/health</c> and the
/// admin API say sends will fail before a customer's send does. A refusal holds for the token Meta refused: a call with
/// it that succeeds, or the number connected with another token, ends it. Checked in memory (one entry per number at
/// most); a refusal's start and end are also written to its stored connection
/// (<see cref="Businesses.WhatsAppConnection.TokenRefusedAt"/>), read back at start, so a restart remembers it.
/// </summary>
public sealed partial class MetaTokenRefusals(TimeProvider time, IServiceScopeFactory scopes, ILogger<MetaTokenRefusals> logger) : IDisposable
{
    private readonly ConcurrentDictionary<string, Refusal> _byNumber = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _changes = new(1, 1); // a start and an end written in the order they were decided

    /// <summary>Notes what a call's answer says about its token; <paramref name="failure"/> is null for a 2xx.</summary>
    public ValueTask ObserveAsync(MetaConnection connection, MetaFailure? failure)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (failure is { Kind: MetaFailureKind.Rejected, Error.IsAuthorization: true })
        {
            // Refused again: already marked, since its first refusal.
            return RefusedAt(connection) is null ? new ValueTask(StartAsync(connection)) : ValueTask.CompletedTask;
        }

        // Every send passes here: nothing to hash when nothing is refused.
        return failure is null && RefusedAt(connection) is not null ? new ValueTask(EndAsync(connection)) : ValueTask.CompletedTask;
    }

    /// <summary>When Meta refused this connection's token, if it did and nothing has succeeded with it since.</summary>
    public DateTime? RefusedAt(MetaConnection? connection) =>
        connection is not null && !_byNumber.IsEmpty && _byNumber.TryGetValue(connection.PhoneNumberId, out var refusal)
        && refusal.Matches(connection.AccessToken)
            ? refusal.At
            : null;

    /// <summary>At start, before any call: the refusals stored connections carry.</summary>
    public async Task LoadAsync(TwaBotDbContext db, Businesses.AccessTokenProtector tokens, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var refused = await db.WhatsAppConnections.AsNoTracking().Where(w => w.TokenRefusedAt != null).ToListAsync(cancellationToken);
        foreach (var stored in refused)
        {
            // A token the key ring cannot read sends nothing anyway (health already says so).
            if (MetaConnection.Open(stored, tokens) is { } connection)
            {
                _byNumber[connection.PhoneNumberId] = new Refusal(Fingerprint(connection.AccessToken), stored.TokenRefusedAt!.Value);
            }
        }
    }

    private async Task StartAsync(MetaConnection connection)
    {
        await _changes.WaitAsync();
        try
        {
            var at = time.GetUtcNow().UtcDateTime;
            // A refusal of a token no longer connected (replaced while its call was under way) is not recorded.
            if (RefusedAt(connection) is null && await StoreAsync(connection, at))
            {
                _byNumber[connection.PhoneNumberId] = new Refusal(Fingerprint(connection.AccessToken), at);
            }
        }
        finally
        {
            _changes.Release();
        }
    }

    private async Task EndAsync(MetaConnection connection)
    {
        await _changes.WaitAsync();
        try
        {
            if (_byNumber.TryGetValue(connection.PhoneNumberId, out var refusal) && refusal.Matches(connection.AccessToken)
                && _byNumber.TryRemove(new KeyValuePair<string, Refusal>(connection.PhoneNumberId, refusal)))
            {
                await StoreAsync(connection, null);
            }
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>
    /// Writes the mark to the stored connection that still holds this token; false when none does. Not the caller's
    /// cancellation: the call's answer is in, and a client that hangs up must not leave the mark half known.
    /// </summary>
    private async Task<bool> StoreAsync(MetaConnection connection, DateTime? refusedAt)
    {
        await using var scope = scopes.CreateAsyncScope();
        if (connection.StoredAccessToken is not { } stored || scope.ServiceProvider.GetService<TwaBotDbContext>() is not { } db)
        {
            return true; // not read from a database (the client on its own): kept in memory only
        }

        try
        {
            using var turn = await scope.ServiceProvider.GetRequiredService<SqliteWriteGate>().EnterAsync(CancellationToken.None);
            return await db.WhatsAppConnections
                .Where(w => w.PhoneNumberId == connection.PhoneNumberId && w.ProtectedAccessToken == stored)
                .ExecuteUpdateAsync(set => set.SetProperty(w => w.TokenRefusedAt, refusedAt), CancellationToken.None) > 0;
        }
        catch (SqliteException error)
        {
            // The call's outcome stands; the mark is kept in memory and goes at the next start.
            LogNotStored(logger, error, connection.PhoneNumberId);
            return true;
        }
    }

    public void Dispose() => _changes.Dispose();

    // A hash, so that the map holds no second copy of a token.
    private static byte[] Fingerprint(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not store whether Meta refuses the access token of WhatsApp number {PhoneNumberId}; a restart will not remember it")]
    private static partial void LogNotStored(ILogger logger, Exception error, string phoneNumberId);

    private sealed record Refusal(byte[] TokenHash, DateTime At)
    {
        public bool Matches(string token) => CryptographicOperations.FixedTimeEquals(TokenHash, Fingerprint(token));
    }
}
