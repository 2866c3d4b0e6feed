using TwaBot.Api.Data;
using TwaBot.Api.Messages;
using TwaBot.Api.Meta;
using TwaBot.Api.Sending.Steps;

namespace TwaBot.Api.Sending;

/// <summary>
/// The last stage of a send, after every check passed: the message row is written (pending) before
/// Meta hears of it, Meta is called with our id as callback data, and the row records the outcome
/// before the answer leaves. Accepted → sent, with any status that raced ahead applied; refused →
/// failed with the reason; no answer → left pending for the status webhook to settle. Both writes
/// go through the group-committed <see cref="MessageLog"/>, so concurrent sends share disk syncs.
/// </summary>
public sealed partial class MessageDispatcher(
    TwaBotDbContext db, MessageLog log, MetaClient meta, MessageStatusWriter statuses, SendsInFlight inFlight, TimeProvider time,
    RateLimiting.DailyQuota quota, SqliteWriteGate gate, Serilog.IDiagnosticContext requestLine, ILogger<MessageDispatcher> logger)
{
    /// <summary>
    /// <paramref name="callerGone"/> counts only until Meta is called: a send that got that far waits for Meta's answer
    /// and records it, even if the caller left.
    /// </summary>
    public async Task<ApiErrorOr<Message>> DispatchAsync(SendContext context, CancellationToken callerGone)
    {
        ArgumentNullException.ThrowIfNull(context);
        var content = context.Content!;
        var now = time.GetUtcNow().UtcDateTime;
        var message = new Message
        {
            BusinessId = context.Caller.BusinessId,
            ApiKeyId = context.Caller.KeyId,
            Reference = MessageReferences.New(),
            To = content.Phone,
            Kind = context.IsOtp ? MessageKinds.Otp : KindOf(content), // counted by the OTP cap after a restart
            TemplateName = (content as ITemplateContent)?.TemplateName,
            ApiStatus = ApiStatuses.Pending,
            QuotaDay = context.Reservation.Day,
            CreatedAt = now,
            UpdatedAt = now,
            IdempotencyKey = context.ClaimedKey?.Key,
            ProtectedIdempotencyRequestSha256 = context.ClaimedKey?.ProtectedRequestSha256,
        };
        try
        {
            await log.InsertAsync(message);
        }
        catch
        {
            context.GiveBackHolds(); // no row, no call to Meta: the send never happened
            throw;
        }

        // The request's log line names the row (message-status takes this id, even for a send Meta refused, whose
        // client got none), and Meta's id once Meta took it: support finds a send by either id a client quotes.
        requestLine.Set("MessageId", message.Reference);

        if (callerGone.IsCancellationRequested)
        {
            // The row waited for the database (another program's lock) until its caller timed out: sent now, it would
            // reach the customer unannounced, and again with the caller's retry.
            await NotSentAsync(context, message, now);
            callerGone.ThrowIfCancellationRequested();
        }

        await FollowRowAsync(context, message);

        // Not the request's token: once Meta may have the message, we wait for its answer to record it.
        context.MayHaveBeenSent = true; // until Meta says it refused
        inFlight.Add(message.Id);
        try
        {
            var result = await meta.SendAsync(
                context.Connection!, Outgoing(content, context.Template, message.Reference), CancellationToken.None);
            return result switch
            {
                MetaSendResult.Accepted accepted => await AcceptedAsync(message, accepted),
                MetaSendResult.Failed failed => await FailedAsync(context, message, failed.Failure),
                _ => throw new InvalidOperationException("Unknown send result."),
            };
        }
        finally
        {
            inFlight.Remove(message.Id);
        }
    }

    private async Task<ApiErrorOr<Message>> AcceptedAsync(Message message, MetaSendResult.Accepted accepted)
    {
        var now = time.GetUtcNow().UtcDateTime;
        message.Wamid = accepted.Wamid;
        requestLine.Set("Wamid", accepted.Wamid);
        // Until it is recorded (by Meta's status webhook, if not here), message-status answers "retry shortly".
        await TryRecordAsync(message.Id, async () =>
        {
            await log.WriteAsync(new MessageWrite.Accepted(
                message.Id, accepted.Wamid, now, accepted.WaId is { } waId && waId != message.To ? waId : null,
                NumberIsItsOwnWaId: accepted.WaId == message.To));
            await statuses.ApplyParkedAsync(message.BusinessId, message.Id, accepted.Wamid, CancellationToken.None);
        });
        return message;
    }

    private async Task<ApiErrorOr<Message>> FailedAsync(SendContext context, Message message, MetaFailure failure)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var unknown = failure.MayHaveBeenSent;
        context.MayHaveBeenSent = unknown;
        if (!unknown)
        {
            await FollowRowAsync(context, message); // its unit goes back to the day that holds it now
        }

        // Without Meta's error (never reached, the breaker open) the description says what happened; Meta's own
        // refusals get the sentence for their code, or, as a failed status report does, Meta's title and details.
        var reason = unknown ? $"{failure.Description} The message may still be delivered (its status webhook will tell)."
            : failure.Error is { } error ? FailureReasons.For(error.Code, error.Message, template: context.Content is ITemplateContent, error.Details)
            : failure.Description;
        var recorded = await TryRecordAsync(message.Id, () => log.WriteAsync(new MessageWrite.Failed(
            message.Id, unknown ? ApiStatuses.Pending : ApiStatuses.Failed, failure.Error?.Code, reason, now)));
        if (recorded && !unknown)
        {
            context.GiveBackHolds(); // Meta refused: the message does not count
        }

        var lastInboundAt = failure.Error?.Code == MetaErrorCodes.OutsideWindow
            ? await SessionWindowIsOpen.LastInboundAtAsync(db, context.Caller.BusinessId, message.To, CancellationToken.None)
            : null;
        return MetaErrorMapping.ToApiError(failure, context, lastInboundAt, message.Reference);
    }

    /// <summary>
    /// When the business's time zone changed since the caller's key was read, the send's row and unit move to the
    /// business's day now (<see cref="RateLimiting.DailyQuota.FollowRowAsync"/>), in turn with the zone changes. A storage
    /// fault here leaves them where they were, rather than failing a send Meta may be about to get.
    /// </summary>
    private async Task FollowRowAsync(SendContext context, Message message)
    {
        if (!quota.ZoneChangedSince(context.Caller))
        {
            return;
        }

        try
        {
            using (await gate.EnterAsync(CancellationToken.None))
            {
                context.Reservation = await quota.FollowRowAsync(
                    db, context.Reservation, context.Caller.BusinessId, message.Id, message.CreatedAt, CancellationToken.None);
            }
        }
        catch (Exception error) when (SqliteFaults.IsStorageFault(error))
        {
            LogRowNotFollowed(logger, error, message.Id);
        }
    }

    private async Task NotSentAsync(SendContext context, Message message, DateTime now)
    {
        try
        {
            await log.WriteAsync(new MessageWrite.Failed(message.Id, ApiStatuses.Failed, null, CallerLeftReason, now));
            context.GiveBackHolds();
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            LogCallerLeftNotRecorded(logger, error, message.Id); // pending, so the sweep marks it unknown and it keeps counting
        }
    }

    private const string CallerLeftReason = "Not sent: the caller disconnected before the message could be passed to Meta.";

    /// <summary>
    /// Records Meta's answer to a send. When that fails (a full disk), the caller still gets Meta's answer:
    /// an error instead would make it send again after Meta accepted, and the customer get the message
    /// twice. The row stays pending and keeps its unit of the cap, as it would count after a restart, until
    /// a status webhook or the sweep of interrupted sends settles it.
    /// </summary>
    private async Task<bool> TryRecordAsync(long messageId, Func<Task> record)
    {
        try
        {
            await record();
            return true;
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            LogAnswerNotRecorded(logger, error, messageId);
            return false;
        }
    }

    private static MetaOutgoingMessage Outgoing(OutgoingContent content, Templates.Template? template, string callbackData) => content switch
    {
        TemplateContent t => MetaOutgoingMessage.Template(
            t.Phone, t.TemplateName, t.Language, t.BodyParams, t.HeaderParams, callbackData, template is null ? null : TemplateShape.Of(template),
            t.ButtonParams),
        TextContent t => MetaOutgoingMessage.Text(t.Phone, t.Text, callbackData),
        MediaContent m => MetaOutgoingMessage.Media(m.Phone, m.MediaType, m.MediaUrl, m.Caption, m.Filename, callbackData),
        OtpContent o => MetaOutgoingMessage.Authentication(o.Phone, o.TemplateName, o.Language, o.Code, callbackData),
        _ => throw new InvalidOperationException($"No Meta message for {content.GetType().Name}."),
    };

    private static string KindOf(OutgoingContent content) => content switch
    {
        TemplateContent => MessageKinds.Template,
        TextContent => MessageKinds.Text,
        MediaContent => MessageKinds.Media,
        OtpContent => MessageKinds.Otp,
        _ => throw new InvalidOperationException($"Unknown content {content.GetType().Name}."),
    };

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Meta answered the send of message {MessageId}, but writing its answer down failed; the caller got the answer, and Meta's status webhooks or the sweep settle the row")]
    private static partial void LogAnswerNotRecorded(ILogger logger, Exception error, long messageId);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Message {MessageId} was written under its business's former time zone, and moving it to the day of the new one failed; it counts on the former zone's day")]
    private static partial void LogRowNotFollowed(ILogger logger, Exception error, long messageId);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Message {MessageId} was not sent, since its caller disconnected first, but writing that down failed; the sweep marks it unknown")]
    private static partial void LogCallerLeftNotRecorded(ILogger logger, Exception error, long messageId);
}
