using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using TwaBot.Api.ApiKeys;
using TwaBot.Api.Businesses;
using TwaBot.Api.Conversations;
using TwaBot.Api.Messages;
using TwaBot.Api.Templates;
using TwaBot.Api.Webhooks;

namespace TwaBot.Api.Data;

/// <summary>
/// The server's database. Tables and columns are snake_case (<c>api_keys.key_hash</c>) so the
/// SQLite file reads naturally from the sqlite3 shell; every tenant table carries <c>business_id</c>.
/// </summary>
public sealed class TwaBotDbContext(DbContextOptions<TwaBotDbContext> options) : DbContext(options)
{
    public DbSet<Business> Businesses => Set<Business>();

    public DbSet<WhatsAppConnection> WhatsAppConnections => Set<WhatsAppConnection>();

    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();

    public DbSet<Template> Templates => Set<Template>();

    public DbSet<Suppression> Suppressions => Set<Suppression>();

    public DbSet<Contact> Contacts => Set<Contact>();

    public DbSet<RecipientWaId> RecipientWaIds => Set<RecipientWaId>();

    public DbSet<UserIdLink> UserIdLinks => Set<UserIdLink>();

    public DbSet<HeldUserEvent> HeldUserEvents => Set<HeldUserEvent>();

    public DbSet<Message> Messages => Set<Message>();

    public DbSet<MessageStatusEvent> MessageStatusEvents => Set<MessageStatusEvent>();

    public DbSet<ParkedStatus> ParkedStatuses => Set<ParkedStatus>();

    public DbSet<WebhookEvent> WebhookEvents => Set<WebhookEvent>();

    public DbSet<InboundMessage> InboundMessages => Set<InboundMessage>();

    public DbSet<Sending.Idempotency.IdempotentAnswer> IdempotentAnswers => Set<Sending.Idempotency.IdempotentAnswer>();

    /// <summary>The sandbox emulator's own store of "Meta-side" templates.</summary>
    public DbSet<Sandbox.SandboxTemplate> SandboxTemplates => Set<Sandbox.SandboxTemplate>();

    public DbSet<RateLimiting.MinuteCount> MinuteCounts => Set<RateLimiting.MinuteCount>();

    public DbSet<SweepMark> SweepMarks => Set<SweepMark>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        ArgumentNullException.ThrowIfNull(configurationBuilder);
        // SQLite has no time-zone type: everything is stored as UTC and read back as UTC.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        configurationBuilder.Properties<Plan>().HaveConversion<string>().HaveMaxLength(16);
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);

        modelBuilder.Entity<Business>(business =>
        {
            business.Property(b => b.Name).HasMaxLength(200);
            business.Property(b => b.TimeZone).HasMaxLength(64);
            business.HasOne(b => b.WhatsApp).WithOne().HasForeignKey<WhatsAppConnection>(w => w.BusinessId);
            business.HasIndex(b => b.FormerPhoneNumberId);
        });

        modelBuilder.Entity<WhatsAppConnection>(connection =>
        {
            connection.ToTable("whatsapp_connections");
            connection.HasKey(w => w.BusinessId);
            connection.HasIndex(w => w.PhoneNumberId).IsUnique();
        });

        modelBuilder.Entity<ApiKey>(key =>
        {
            key.Property(k => k.Name).HasMaxLength(100);
            key.HasIndex(k => k.KeyHash).IsUnique();
            key.HasIndex(k => k.BusinessId);
        });

        modelBuilder.Entity<Template>(template =>
        {
            template.HasIndex(t => new { t.BusinessId, t.Name, t.Language }).IsUnique();
            template.Ignore(t => t.BodyParameterCount);
            template.Ignore(t => t.HeaderParameterCount);
            template.Ignore(t => t.HasMediaHeader);
            template.Ignore(t => t.ButtonParameters);
            template.Ignore(t => t.IsAuthentication);
            template.Ignore(t => t.IsMarketing);
            template.HasOne<Business>().WithMany().HasForeignKey(t => t.BusinessId);
        });

        modelBuilder.Entity<Suppression>(suppression =>
        {
            suppression.HasIndex(s => new { s.BusinessId, s.Phone }).IsUnique();
            suppression.HasOne<Business>().WithMany().HasForeignKey(s => s.BusinessId);
        });

        MapConversationsAndMessages(modelBuilder);
        modelBuilder.Entity<Sandbox.SandboxTemplate>().HasIndex(t => new { t.WabaId, t.Name, t.Language }).IsUnique();
        modelBuilder.Entity<RateLimiting.MinuteCount>().HasKey(c => c.KeyId);
        modelBuilder.Entity<RateLimiting.MinuteCount>().Property(c => c.KeyId).ValueGeneratedNever();
        modelBuilder.Entity<SweepMark>().HasKey(m => m.Name);
        modelBuilder.Entity<SweepMark>().Property(m => m.Name).HasMaxLength(64);
    }

    private static void MapConversationsAndMessages(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Contact>(contact =>
        {
            contact.HasIndex(c => new { c.BusinessId, c.Phone }).IsUnique();
            contact.HasOne<Business>().WithMany().HasForeignKey(c => c.BusinessId);
        });

        modelBuilder.Entity<RecipientWaId>(recipient =>
        {
            recipient.HasIndex(r => new { r.BusinessId, r.Phone }).IsUnique();
            recipient.HasIndex(r => new { r.BusinessId, r.WaId }); // a customer's START finds the numbers their wa_id stands for
            recipient.HasOne<Business>().WithMany().HasForeignKey(r => r.BusinessId);
        });

        modelBuilder.Entity<UserIdLink>(link =>
        {
            link.HasIndex(l => new { l.BusinessId, l.UserId }).IsUnique(); // a message that names only the BSUID finds its number
            link.HasOne<Business>().WithMany().HasForeignKey(l => l.BusinessId);
        });

        modelBuilder.Entity<HeldUserEvent>(held =>
        {
            held.HasIndex(h => new { h.BusinessId, h.UserId }).IsUnique(); // one row per BSUID; a new pair probes it
            held.HasIndex(h => h.ReceivedAt); // the expiry
            held.HasOne<Business>().WithMany().HasForeignKey(h => h.BusinessId);
        });

        modelBuilder.Entity<Message>(message =>
        {
            message.HasIndex(m => m.Wamid).IsUnique();
            message.HasIndex(m => m.Reference).IsUnique(); // callback data in Meta's reports, and message-status, find our id
            message.HasIndex(m => new { m.BusinessId, m.Id });
            message.HasIndex(m => new { m.ApiKeyId, m.QuotaDay }); // the daily cap's count after a restart
            message.HasIndex(m => new { m.ApiStatus, m.CreatedAt }); // the sweep of interrupted sends
            message.HasIndex(m => new { m.BusinessId, m.To, m.CreatedAt }).HasFilter("kind = 'otp'"); // a number's hourly OTP count after a restart
            message.Property(m => m.IdempotencyKey).HasMaxLength(255);
            message.HasIndex(m => new { m.ApiKeyId, m.IdempotencyKey }).HasFilter("idempotency_key IS NOT NULL"); // a retry's lookup
            message.HasOne<Business>().WithMany().HasForeignKey(m => m.BusinessId);
        });

        modelBuilder.Entity<MessageStatusEvent>(statusEvent =>
        {
            // A redelivered status is the same event: stored once.
            statusEvent.HasIndex(e => new { e.MessageId, e.Status, e.OccurredAt }).IsUnique();
            statusEvent.HasOne<Message>().WithMany().HasForeignKey(e => e.MessageId);
        });

        modelBuilder.Entity<ParkedStatus>(parked =>
        {
            parked.HasIndex(p => new { p.BusinessId, p.Wamid });
            parked.HasIndex(p => p.ReceivedAt);
            // The processor re-tries only these; triggers on messages set the mark (migration ParkedStatusMessageFound).
            parked.HasIndex(p => p.MessageFound).HasFilter("message_found");
        });

        modelBuilder.Entity<WebhookEvent>(webhookEvent =>
        {
            webhookEvent.HasIndex(e => new { e.EventTime, e.BodySha256 }).IsUnique();
            // The processor looks for what is left to apply.
            webhookEvent.HasIndex(e => e.AppliedAt);
        });

        modelBuilder.Entity<InboundMessage>(inbound =>
        {
            inbound.HasIndex(i => i.Wamid).IsUnique();
            inbound.HasIndex(i => new { i.BusinessId, i.From });
            // Texts still kept, for the retention sweep; a text leaves the index when it is dropped.
            inbound.HasIndex(i => i.SentAt).HasFilter("text IS NOT NULL");
        });

        modelBuilder.Entity<Sending.Idempotency.IdempotentAnswer>(answer =>
        {
            answer.Property(a => a.Key).HasMaxLength(255);
            answer.HasIndex(a => new { a.ApiKeyId, a.Key }).IsUnique();
            answer.HasIndex(a => a.CreatedAt); // answers past their 24 hours are dropped
            answer.HasOne<ApiKey>().WithMany().HasForeignKey(a => a.ApiKeyId).OnDelete(DeleteBehavior.Cascade);
        });
    }

    // A time of no kind is UTC here, as the raw SQL writers (PreparedCommands.Text) store it: taken for local time, it was
    // shifted by the machine's offset on a server not set to UTC.
    private sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        value => value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : DateTime.SpecifyKind(value, DateTimeKind.Utc),
        value => DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
