using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Data;
using TwaBot.Api.Errors;
using TwaBot.Api.Messages;

namespace TwaBot.Api.Sending.Idempotency;

/// <summary>
/// Optional idempotency for sends, scoped to the API key: a send retried with the same
/// <c>Idempotency-Key</c> and the same request gets the first answer again, and no second message goes
/// out. Meta's send has no such key, so a CRM that retries after a timeout, or a link previewer that
/// fetches a quick-send URL again, would otherwise message the customer twice.
/// <list type="bullet">
/// <item>Kept: answers of sends Meta accepted or may have accepted (its answer lost), for <see cref="KeptFor"/>.
/// A send refused before Meta, or refused by Meta, keeps nothing: nothing went out, so a retry tries again.</item>
/// <item>While the first request with a key runs, another with the same key gets 409; a key reused for a
/// different request gets 422 (the draft <c>Idempotency-Key</c> header standard's answers).</item>
/// <item>A send whose answer was never kept (the server stopped between Meta's answer and keeping it, or could
/// not write) is still found by its message row, which carries the key from before Meta is called: a retry
/// gets "outcome unknown" with that message's id, never a second message.</item>
/// <item>A kept answer this key ring cannot decrypt (a database restored with an older key ring) is not replayed: the
/// retry gets "outcome unknown" saying so, with the message's id and whether Meta had accepted it.</item>
/// </list>
/// Requests under way are known to this process only: the server is one process with one database file.
/// </summary>
public sealed partial class IdempotencyKeys(
    IServiceScopeFactory scopes, SqliteWriteGate gate, IdempotencyProtector protector, TimeProvider time, ILogger<IdempotencyKeys> logger)
{
    public static readonly TimeSpan KeptFor = TimeSpan.FromHours(24);

    private readonly ConcurrentDictionary<(long ApiKeyId, string Key), byte[]> _underWay = new();
    private readonly ILogger _logger = logger;

    /// <summary>Keys claimed by requests under way, for tests.</summary>
    internal int UnderWayCount => _underWay.Count;

    /// <summary>
    /// Claims the key for this request, or answers instead of sending: the kept answer, 409 or 422. A claim
    /// must be <see cref="Claim.ReleaseAsync"/>d, with the answer to keep when Meta may have the message.
    /// </summary>
    public async Task<Claim> ClaimAsync(long apiKeyId, IdempotencyRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Error is not null)
        {
            throw new ArgumentException("A key that cannot be used is refused by the validation step, never claimed.", nameof(request));
        }

        var hash = await request.HashAsync();
        var slot = (apiKeyId, request.Key);
        if (!_underWay.TryAdd(slot, hash))
        {
            return new Claim(_underWay.TryGetValue(slot, out var running) && !running.AsSpan().SequenceEqual(hash)
                ? ApiErrors.IdempotencyKeyReused(request.Key)
                : ApiErrors.IdempotencyKeyInUse(request.Key));
        }

        try
        {
            var kept = await KeptAnswerAsync(apiKeyId, request.Key, cancellationToken);
            var replay = kept is null ? null : Replay(kept, request.Key);
            // No kept answer (or one this key ring cannot decrypt): the message row tells whether a send with the key went out.
            var sent = replay is null ? await SentWithKeyAsync(apiKeyId, request.Key, cancellationToken) : null;
            if (kept is null && sent is null)
            {
                return new Claim(this, slot, protector.Protect(hash)); // this request sends
            }

            _underWay.TryRemove(slot, out _);
            // A first request's hash that cannot be decrypted counts as this request's: a refusal would tell nothing true.
            var firstRequest = kept?.ProtectedRequestSha256 ?? sent!.ProtectedIdempotencyRequestSha256;
            var sameRequest = firstRequest is null || protector.UnprotectRequestHash(firstRequest) is not { } first || request.IsThisRequest(first);
            var messageId = sent is null ? null : sent.Wamid ?? sent.Reference;
            return new Claim(!sameRequest ? ApiErrors.IdempotencyKeyReused(request.Key)
                : replay ?? (IResult)(kept is not null
                    ? ApiErrors.IdempotentAnswerUnreadable(request.Key, kept.StatusCode, messageId) // never a second message
                    : ApiErrors.IdempotentSendInterrupted(request.Key, messageId!)));
        }
        catch
        {
            _underWay.TryRemove(slot, out _);
            throw;
        }
    }

    private IdempotentReplay? Replay(IdempotentAnswer kept, string key)
    {
        if (protector.UnprotectAnswer(kept.ProtectedBody) is { } body)
        {
            return new IdempotentReplay(kept.StatusCode, body);
        }

        LogAnswerUnreadable(_logger, key, IdempotencyProtector.KeyIdOf(kept.ProtectedBody)?.ToString() ?? "unknown (not in Data Protection's format)");
        return null;
    }

    private async Task<IdempotentAnswer?> KeptAnswerAsync(long apiKeyId, string key, CancellationToken cancellationToken)
    {
        var since = time.GetUtcNow().UtcDateTime - KeptFor;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
        return await db.IdempotentAnswers.AsNoTracking()
            .SingleOrDefaultAsync(a => a.ApiKeyId == apiKeyId && a.Key == key && a.CreatedAt > since, cancellationToken);
    }

    /// <summary>
    /// The latest send with this key in its 24 hours that Meta may have (its answer not kept, or not readable): one
    /// Meta refused (failed, no wamid) sent nothing, so it does not stop a retry.
    /// </summary>
    private async Task<Message?> SentWithKeyAsync(long apiKeyId, string key, CancellationToken cancellationToken)
    {
        var since = time.GetUtcNow().UtcDateTime - KeptFor;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
        return await db.Messages.AsNoTracking()
            .Where(m => m.ApiKeyId == apiKeyId && m.IdempotencyKey == key && m.CreatedAt > since)
            .Where(m => !(m.ApiStatus == ApiStatuses.Failed && m.Wamid == null))
            .OrderByDescending(m => m.Id)
            .FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>Keeps the answer (before it leaves), replacing an expired one of its key; <see cref="ExpiredAnswerSweeper"/> drops the others past their time.</summary>
    private async Task KeepAsync((long ApiKeyId, string Key) slot, byte[] protectedHash, int statusCode, byte[] body)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
        // Not the request's token: Meta may have the message, so its answer is kept even if the caller left.
        using var turn = await gate.EnterAsync(CancellationToken.None);
        await using var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None);
        await db.IdempotentAnswers.Where(a => a.ApiKeyId == slot.ApiKeyId && a.Key == slot.Key)
            .ExecuteDeleteAsync(CancellationToken.None);
        db.IdempotentAnswers.Add(new IdempotentAnswer
        {
            ApiKeyId = slot.ApiKeyId, Key = slot.Key, ProtectedRequestSha256 = protectedHash, StatusCode = statusCode,
            ProtectedBody = protector.Protect(body), CreatedAt = now,
        });
        await db.SaveChangesAsync(CancellationToken.None);
        await transaction.CommitAsync(CancellationToken.None);
    }

    /// <summary>A request's hold on its key, or the answer it gets instead of sending.</summary>
    public sealed class Claim
    {
        private readonly IdempotencyKeys? _keys;
        private readonly (long ApiKeyId, string Key) _slot;
        private bool _released;

        internal Claim(IdempotencyKeys keys, (long ApiKeyId, string Key) slot, byte[] protectedHash)
        {
            _keys = keys;
            _slot = slot;
            ProtectedRequestSha256 = protectedHash;
        }

        internal Claim(IResult answer)
        {
            Answer = answer;
        }

        /// <summary>The answer instead of a send: a kept answer replayed, or 400, 409, 422 or 502 (a first send interrupted, or whose kept answer cannot be read).</summary>
        public IResult? Answer { get; }

        /// <summary>SHA-256 of the request holding the key, encrypted as it is stored (empty when <see cref="Answer"/> is set).</summary>
        public byte[] ProtectedRequestSha256 { get; } = [];

        /// <summary>
        /// Lets the key go: with <paramref name="keep"/> (status and JSON body) its answer is kept first, so that a
        /// retry that comes once this request is done gets it.
        /// </summary>
        public async Task ReleaseAsync((int StatusCode, byte[] Body)? keep = null)
        {
            if (_keys is null || _released)
            {
                return;
            }

            _released = true;
            try
            {
                if (keep is { } answer)
                {
                    await _keys.KeepAsync(_slot, ProtectedRequestSha256, answer.StatusCode, answer.Body);
                }
            }
            catch (Exception error)
            {
                // The caller still gets Meta's answer: an error instead would make it send again. A retry with the
                // key finds the message row instead, and gets the outcome-unknown 502 with its id.
                LogAnswerNotKept(_keys._logger, error, _slot.Key);
            }
            finally
            {
                _keys._underWay.TryRemove(_slot, out _);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The kept answer to the send with Idempotency-Key {Key} cannot be decrypted: the key ring "
        + "has no key {KeyId} (restored with an older key ring folder?); the retry is answered 502 with the message's id, and sends nothing")]
    private static partial void LogAnswerUnreadable(ILogger logger, string key, string keyId);

    [LoggerMessage(Level = LogLevel.Error, Message = "The answer to a send with Idempotency-Key {Key} could not be kept; a retry with that key sends nothing and is answered 502 with the message's id")]
    private static partial void LogAnswerNotKept(ILogger logger, Exception error, string key);
}
