using Microsoft.EntityFrameworkCore;
using TwaBot.Api.Data;
using TwaBot.Api.Errors;

namespace TwaBot.Api.Sending.Steps;

/// <summary>
/// Free-form text and media reach a customer only within 24 hours of their last message to the
/// business; outside it we refuse rather than report a success Meta would turn into a failure.
/// </summary>
public sealed class SessionWindowIsOpen(TwaBotDbContext db, TimeProvider time) : ISendStep
{
    public static readonly TimeSpan Length = TimeSpan.FromHours(24);

    public async ValueTask<ApiError?> CheckAsync(SendContext context, CancellationToken cancellationToken)
    {
        if (!context.Route.FreeForm)
        {
            return null;
        }

        var phone = context.Content!.Phone;
        // The number's rows (the number as written and its wa_id: at most three), each with the business number written to.
        var windows = await ContactsOf(db, context.Caller.BusinessId, phone).Where(c => c.LastInboundAt != null)
            .Select(c => new { c.LastInboundAt, c.LastInboundPhoneNumberId }).ToListAsync(cancellationToken);
        // Meta's window is the customer's with one business number: a message written to the number the business sent
        // from before (it connected another since) opens none for the number it sends from now, and one written to the
        // number now under another row of the same phone still counts. Null: written before the number was kept.
        var withThisNumber = windows.Where(w => w.LastInboundPhoneNumberId is not { } writtenTo || writtenTo == context.Connection?.PhoneNumberId)
            .Max(w => w.LastInboundAt);
        return IsOpen(withThisNumber, time.GetUtcNow().UtcDateTime) ? null
            : ApiErrors.WindowClosed(context.Route.WindowClosed, windows.Max(w => w.LastInboundAt));
    }

    public static bool IsOpen(DateTime? lastInboundAt, DateTime now) => lastInboundAt is { } last && now - last < Length;

    /// <summary>The customer's last message to the business: from the number, or from the wa_id Meta gave it.</summary>
    internal static Task<DateTime?> LastInboundAtAsync(TwaBotDbContext db, long businessId, string phone, CancellationToken cancellationToken) =>
        ContactsOf(db, businessId, phone).MaxAsync(c => c.LastInboundAt, cancellationToken);

    /// <summary>
    /// The number's contact row and its wa_id's (and, for a number given as a mobile's wa_id, the number as written:
    /// WaIdForms), as <c>phone IN (number, wa_id, written)</c>: probes of the (business_id, phone)
    /// index. Written as <c>phone = number OR phone IN (subquery)</c>, SQLite (with no ANALYZE statistics, as the server
    /// never gathers them) read every contact of the business instead, a large business's hundred thousand on each send.
    /// </summary>
    internal static IQueryable<Conversations.Contact> ContactsOf(TwaBotDbContext db, long businessId, string phone) =>
        db.Contacts.AsNoTracking().Where(c => c.BusinessId == businessId && new[]
        {
            phone, db.RecipientWaIds.Where(r => r.BusinessId == businessId && r.Phone == phone).Select(r => r.WaId).FirstOrDefault(),
            Phones.WaIdForms.WrittenNumberOf(phone),
        }.Contains(c.Phone));
}
