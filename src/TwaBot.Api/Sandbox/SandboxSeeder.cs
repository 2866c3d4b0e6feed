using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TwaBot.Api.ApiKeys;
using TwaBot.Api.Businesses;
using TwaBot.Api.Configuration;
using TwaBot.Api.Data;
using TwaBot.Api.Templates;

namespace TwaBot.Api.Sandbox;

/// <summary>
/// First start of a sandbox on an empty database: a Pro "Sandbox Business" connected to the emulator,
/// the public docs' <c>order_confirmation</c> and an <c>otp_verification</c> template, and one key
/// with all permissions, printed once to the console (never to the log). Later starts say where a key comes from
/// instead, since a newcomer who restarts has lost the printed one. It runs once the server listens: a first start
/// that cannot open its port must not spend the only printing of the key.
/// </summary>
internal sealed partial class SandboxSeeder(
    IServiceProvider services, ServerMode mode, TimeProvider time, IOptions<TwaBotOptions> options, IConfiguration configuration,
    AccessTokenProtector tokens, SqliteConnections database, SqliteWriteGate gate, IHostEnvironment environment, ILogger<SandboxSeeder> logger)
    : OnceListening
{
    public override async Task StartedAsync(CancellationToken cancellationToken)
    {
        if (!mode.IsSandbox)
        {
            return;
        }

        if (!environment.IsDevelopment())
        {
            // A setting kept from a trial: sends answer 200 and no customer ever gets them.
            LogSandboxOutsideDevelopment(logger, environment.EnvironmentName);
        }

        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TwaBotDbContext>();
        if (await db.Businesses.AnyAsync(cancellationToken))
        {
            var file = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(database.ConnectionString).DataSource;
            Console.Out.WriteLine(
                $$"""

                 TwaBot sandbox: this database's API keys were shown once, when they were made. For a new one:
                 POST /admin/v1/businesses/{id}/api-keys (README, "Admin API"), or stop the server and delete
                 {{file}} to start afresh.

                """);
            return;
        }

        // Before the turn: on a first start this makes the key ring's first key (files, not the database).
        var protectedToken = tokens.Protect(SandboxToken.New());
        var (businessId, key) = await SeedAsync(db, protectedToken, cancellationToken);

        Console.Out.WriteLine(
            $"""

             TwaBot sandbox: created "Sandbox Business" (id {businessId}, Pro) with templates order_confirmation and
             otp_verification, connected to the Meta emulator. Its API key, shown this once:
                 X-API-Key: {key}
             Try it:
                 curl -s {TryItBaseUrl(configuration["urls"], configuration["http_ports"])}/api/v1/health -H "X-API-Key: {key}"

            """);
    }

    /// <summary>
    /// The business, its templates and its key, written in one turn of the write gate; its id and the key. A method of
    /// its own so that the turn ends before the console line, which a full stdout pipe can block.
    /// </summary>
    private async Task<(long BusinessId, string Key)> SeedAsync(TwaBotDbContext db, string protectedToken, CancellationToken cancellationToken)
    {
        // In turn with the other writers that start with the server (the sweeps): outside the gate, one of them
        // lost SQLite's lock to this transaction and failed.
        using var turn = await gate.EnterAsync(cancellationToken);
        // One transaction: a server stopped half-way must not leave a business without its key and
        // templates, since later starts seed only an empty database.
        await using var transaction = await db.Database.BeginAllOrNothingAsync(cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        var connection = new WhatsAppConnection
        {
            PhoneNumberId = "1065403522" + System.Security.Cryptography.RandomNumberGenerator.GetString("0123456789", 5),
            WabaId = "1022901293" + System.Security.Cryptography.RandomNumberGenerator.GetString("0123456789", 5),
            ProtectedAccessToken = protectedToken,
            DisplayPhoneNumber = WhatsAppConnection.SandboxDisplayPhoneNumber,
            IsSandbox = true,
            ConnectedAt = now,
        };
        var business = new Business
        {
            Name = "Sandbox Business",
            Plan = Plan.Pro,
            TimeZone = options.Value.DefaultTimeZone,
            CreatedAt = now,
            WhatsApp = connection,
        };
        db.Businesses.Add(business);
        await db.SaveChangesAsync(cancellationToken);

        foreach (var template in SeedTemplates(business.Id, now))
        {
            db.Templates.Add(template);
            db.SandboxTemplates.Add(new SandboxTemplate
            {
                WabaId = connection.WabaId, MetaId = template.MetaTemplateId!, Name = template.Name, Language = template.Language,
                Category = template.Category, Status = template.Status, Body = template.Content, FooterText = template.FooterText,
            });
        }

        var key = ApiKeyFormat.Generate(mode.ApiKeyPrefix);
        db.ApiKeys.Add(new ApiKey
        {
            BusinessId = business.Id,
            Name = "Sandbox key",
            Prefix = ApiKeyFormat.DisplayPrefix(key),
            KeyHash = ApiKeyFormat.Hash(key),
            Permissions = [ApiKeyPermissions.All],
            CreatedAt = now,
        });
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (business.Id, key);
    }

    /// <summary>
    /// Where a newcomer on this machine reaches the server: the first configured URL (<c>--urls</c>,
    /// <c>ASPNETCORE_URLS</c>, launchSettings) or HTTP port as the operator wrote it, with a wildcard host as localhost
    /// (a port 0 shows as 0: only the tests ask for one).
    /// </summary>
    internal static string TryItBaseUrl(string? urls, string? httpPorts)
    {
        var first = urls?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        if (first is null)
        {
            var port = httpPorts?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
            return port is null ? "http://localhost:5000" : $"http://localhost:{port}"; // Kestrel's default
        }

        var wildcard = System.Text.RegularExpressions.Regex.Match(first, @"^(?<scheme>[a-z]+://)(\+|\*|0\.0\.0\.0|\[::\])(?<rest>(:\d+)?)");
        return (wildcard.Success ? wildcard.Groups["scheme"].Value + "localhost" + wildcard.Groups["rest"].Value : first).TrimEnd('/');
    }

    internal static IEnumerable<Template> SeedTemplates(long businessId, DateTime now) =>
    [
        new()
        {
            BusinessId = businessId, Name = "order_confirmation", DisplayName = "Order Confirmation",
            Content = "Hi {{1}}, your order {{2}} of {{3}} has been confirmed!", Category = Template.Utility, Language = "en",
            FooterText = "TwaBot - WhatsApp Business", Variables = ["customer_name", "order_id", "amount"],
            Status = Template.Approved, MetaTemplateId = "1000000000000001", UpdatedAt = now,
        },
        new()
        {
            BusinessId = businessId, Name = "otp_verification", DisplayName = "OTP Verification",
            Content = "{{1}} is your verification code.", Category = Template.Authentication, Language = "en",
            Variables = ["otp"], Status = Template.Approved, MetaTemplateId = "1000000000000002", UpdatedAt = now,
        },
    ];

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox mode in the {Environment} environment (TwaBot:Sandbox:Enabled=true): "
        + "messages go to the Meta emulator, never to Meta; to go live, set TwaBot:Sandbox:Enabled=false or remove it")]
    private static partial void LogSandboxOutsideDevelopment(ILogger logger, string environment);
}
