using System.Globalization;
using TwaBot.Api.Admin;
using TwaBot.Api.ApiKeys;
using TwaBot.Api.Businesses;
using TwaBot.Api.Configuration;
using TwaBot.Api.Data;
using TwaBot.Api.Errors;
using TwaBot.Api.Health;
using TwaBot.Api.Http;
using TwaBot.Api.Json;
using TwaBot.Api.Logging;
using TwaBot.Api.Messages;
using TwaBot.Api.Meta;
using TwaBot.Api.Metrics;
using TwaBot.Api.OpenApi;
using TwaBot.Api.RateLimiting;
using TwaBot.Api.Sandbox;
using TwaBot.Api.Sending;
using TwaBot.Api.Templates;
using TwaBot.Api.Webhooks;

// Answers, logs and error texts must not change with the machine's LANG (a decimal comma under de_DE, a Persian minus
// sign under fa_IR, a Buddhist-calendar year under th_TH): every thread formats and parses as the invariant culture.
// ICU stays (InvariantGlobalization is false) for what needs it: IANA time zones, normalization, Turkish casing of keywords.
// The defaults reach this thread too, since nothing has set its culture yet.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.InvariantCulture;

var builder = WebApplication.CreateBuilder(args);

builder.AddTwaBotConfiguration();            // TwaBot section, validated at start; sandbox or live
builder.AddTwaBotLogging();                  // Serilog, one line per request, secrets redacted
builder.Services.AddTwaBotMetrics(builder.Configuration); // the TwaBot meter; metrics and traces exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set
builder.Services.AddTwaBotJson();            // snake_case, source-generated
builder.Services.AddErrorEnvelope();         // every error is {success:false, error, error_code}
builder.Services.AddTwaBotData();
builder.Services.AddAccessTokenProtection(); // the key ring: Meta access tokens and Idempotency-Key answers encrypted in the database
builder.Services.AddTwaBotAuthentication();  // X-API-Key for /api/v1, X-Admin-Key for /admin/v1
builder.Services.AddTwaBotRateLimiting();    // per-minute limits: per key, then global
builder.Services.AddAdminApi();              // the admin calls' per-business turns
builder.Services.AddTwaBotOpenApi();
builder.Services.AddLivenessChecks();      // GET /healthz for Docker and load balancers
builder.Services.AddForwardedPrefix(builder.Configuration); // with forwarded headers on, X-Forwarded-Prefix too: a proxy's path prefix
builder.Services.AddSingleton<MetaAppSecret>();
builder.Services.AddMetaClient();           // typed HttpClient to the Graph API, with deliberate resilience
builder.Services.AddMetaWebhooks();         // durable inbox, background processor
builder.Services.AddSending();              // the send pipeline and its steps
builder.Services.AddSandbox();              // the Meta emulator, and the Graph address the client calls: Meta's, or in sandbox mode the emulator's
builder.Services.AddContentTypeAfterKeys(); // last, once routing is registered: a body's Content-Type is judged by its endpoint, after the key

WebApplication app;
try
{
    app = builder.Build();
}
catch (Exception error) when (ConfigurationErrors.IsConfigurationError(error))
{
    Console.Error.WriteLine(ConfigurationErrors.Describe(error, builder.Configuration)); // e.g. a Serilog setting it cannot read
    return 1;
}

// A bad setting stops the server with the setting's name, not a stack trace. (Under the tests'
// in-memory host the start-up exception reaches the test instead.)
if (!ConfigurationErrors.IsTestHost(app) && ConfigurationErrors.Check(app.Services) is { } configurationError)
{
    Console.Error.WriteLine(configurationError);
    return 1;
}

app.UseSingleSlashes();                    // "//api/v1/…" (a base URL ending in /) is "/api/v1/…"
app.UsePrefixedLocations();                // a 201's Location under that prefix
app.UseRouting();                          // after it, so routes see the path as read
app.UseTwaBotRequestLogging();              // logs the status the client really got
app.UseNoStoreResponses();                 // API answers are never cached by browsers or proxies; no answer is sniffed as HTML
app.UseErrorEnvelope();
app.UseUtf8CharsetLabels();                // charset=utf8 or "utf-8" is UTF-8 to every JSON reader
app.UseAdminKeyBeforeRoutingAnswers();      // routing's own 405 under /admin asks for the admin key first, as the admin routes do
app.UseAuthentication();
app.UseAuthorization();
app.UseRequestBodyLimits();                // 413 over the route's limit, after the key: a caller without one learns no body rule
app.UseRewindableBodies();                 // admin and sandbox bodies kept to be read again (a syntax error's position in characters)
app.UseUtf8BodiesOnly();                  // a body the framework would read in another charset (iso-8859-1, utf-16) is 415, as on the sends
app.UseTwaBotOpenApi();                       // /swagger and /swagger/v1/swagger.json

var routes = app.MapGroup("").AnswerHeadWhereGetIs(); // HEAD wherever GET is, except quick-send
var api = routes.MapGroup("/api/v1").RequireApiKey().RequireMinuteRateLimits().WithMetadata(new ApiKeySecurity())
    .ProducesErrors(StatusCodes.Status401Unauthorized, StatusCodes.Status429TooManyRequests);
api.MapHealth();
api.MapTemplates();
api.MapSending();
api.MapMessageStatus();
routes.MapAdminApi();
routes.MapMetaWebhooks();
routes.MapSandbox();
routes.MapLivenessChecks();

// Taken now: the host is disposed by the time Run throws.
var stopping = app.Lifetime.ApplicationStopping;
var started = app.Lifetime.ApplicationStarted;
var addresses = ListenFailures.ConfiguredAddresses(app.Configuration);
var database = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(app.Services.GetRequiredService<SqliteConnections>().ConnectionString).DataSource;
try
{
    app.Run();
}
catch (OperationCanceledException) when (stopping.IsCancellationRequested)
{
    // SIGTERM or Ctrl+C while starting (migrations, the sandbox's first seed, which are all-or-nothing):
    // a stop like any other, not a crash with a stack trace and exit 134.
    Console.Error.WriteLine("TwaBot stopped while starting.");
}
catch (DatabaseUnusableException error)
{
    Console.Error.WriteLine(error.Message);
    return 1;
}
catch (Exception error) when (SqliteStartFailures.IsOne(error) && !started.IsCancellationRequested)
{
    Console.Error.WriteLine(SqliteStartFailures.Describe(error, database));
    return 1;
}
catch (Exception error) when (ListenFailures.IsOne(error))
{
    Console.Error.WriteLine(ListenFailures.Describe(error, addresses));
    return 1;
}

return 0;

/// <summary>Entry point; public so the tests' WebApplicationFactory can start it.</summary>
public partial class Program;
