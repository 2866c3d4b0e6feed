using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using TwaBot.Api.Data;
using TwaBot.Api.Logging;
using TwaBot.Api.Tests.Infrastructure;

namespace TwaBot.Api.Tests.Logging;

/// <summary>
/// Anyone can send a path as long as the 64 KB request line, with no key and as often as they like: its request line
/// in the log keeps the path's start and says how much it left out, so each such request cannot write its whole
/// length (or, escaped, twice that) to the disk the log goes to. Nor can a method as long as the request line.
/// </summary>
public class LongRequestPathTests : IAsyncLifetime
{
    private readonly TwaBotApiFactory _factory = new();

    [Fact]
    public async Task APathOfTheWholeRequestLineIsLoggedCutToItsStart()
    {
        using var anonymous = _factory.CreateClient();
        // 20,000 control characters: 60,000 characters sent, 120,000 once escaped for the log.
        var path = "/start" + new StringBuilder().Insert(0, "%01", 20_000);

        await anonymous.GetAsync(path);

        var line = await RequestLineAsync("/start");
        var logged = (string)((Serilog.Events.ScalarValue)line.Properties["RequestPath"]).Value!;
        Assert.StartsWith(@"/start\u0001\u0001", logged, StringComparison.Ordinal);
        Assert.EndsWith("… (119006 more characters)", logged, StringComparison.Ordinal); // of the 120,006 written: 6 for each escape
        Assert.True(line.RenderMessage(CultureInfo.InvariantCulture).Length < 1_100, "the whole request line stays near the cut's length");
    }

    [Fact]
    public async Task ASecretAtTheCutIsTakenOutWholeBeforeThePathIsCut()
    {
        using var anonymous = _factory.CreateClient();
        // The admin key (a configured secret, found only by its whole text) starts 10 characters before the cut.
        var path = "/" + new string('a', LongPathShortening.MaxLength - 11) + TwaBotApiFactory.AdminKey + "/" + new string('b', 500);

        await anonymous.GetAsync(path);

        await RequestLineAsync("/aaaa");
        Assert.DoesNotContain(TwaBotApiFactory.AdminKey[..10], _factory.Logs.AllText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMethodOfTheWholeRequestLineIsLoggedCutToItsStart()
    {
        using var anonymous = _factory.CreateClient();
        // Kestrel takes any token as a method, as long as the request line allows: answered 404 or 405, with no key.
        using var request = new HttpRequestMessage(new HttpMethod("FORGED" + new string('A', 60_000)), "/api/v1/health");

        await anonymous.SendAsync(request);

        var line = await RequestLineAsync("/api/v1/health");
        var logged = (string)((Serilog.Events.ScalarValue)line.Properties["RequestMethod"]).Value!;
        Assert.StartsWith("FORGEDAAAA", logged, StringComparison.Ordinal);
        Assert.EndsWith("… (59006 more characters)", logged, StringComparison.Ordinal);
        Assert.True(line.RenderMessage(CultureInfo.InvariantCulture).Length < 1_100, "the whole request line stays near the cut's length");
    }

    [Fact]
    public async Task AStorageFaultsErrorLineCutsALongPathAsTheRequestLineDoes()
    {
        // The error line of a 503 names the path too; a message id in the path is as long as the client makes it.
        await using var server = new KeyReadsFail();
        using var client = server.CreateClient();
        client.DefaultRequestHeaders.Add("X-API-Key", TwaBot.Api.ApiKeys.ApiKeyFormat.Generate(TwaBot.Api.ApiKeys.ApiKeyFormat.TestPrefix)); // looked up
        var path = "/api/v1/message-status/" + new string('m', 5_000);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync(path)).StatusCode);

        await Poll.UntilAsync(() => server.Logs.Events.Any(e => e.Properties.ContainsKey("Path")), "the storage fault's error line");
        var logged = server.Logs.Events.Single(e => e.Properties.ContainsKey("Path")).Properties["Path"];
        Assert.Equal(LongPathShortening.Shorten(path), Assert.IsType<Serilog.Events.ScalarValue>(logged).Value);
    }

    [Fact]
    public async Task APreviousAdminKeysWarningCutsALongMethodAsTheRequestLineDoes()
    {
        // The warning names the call's method too, and the admin key is checked before routing answers an unknown one.
        const string previousKey = "previous-admin-key-0123456789";
        await using var rotating = new TwaBotApiFactory(new Dictionary<string, string?> { ["TwaBot:PreviousAdminKey"] = previousKey });
        using var client = rotating.CreateClient();
        var method = "FORGED" + new string('A', 60_000);
        using var request = new HttpRequestMessage(new HttpMethod(method), "/admin/v1/businesses");
        request.Headers.Add("X-Admin-Key", previousKey);

        await client.SendAsync(request);

        await Poll.UntilAsync(() => rotating.Logs.Events.Any(e => e.Properties.ContainsKey("Method")), "the previous key's warning");
        var logged = rotating.Logs.Events.Single(e => e.Properties.ContainsKey("Method")).Properties["Method"];
        Assert.Equal(LongPathShortening.Shorten(method), Assert.IsType<Serilog.Events.ScalarValue>(logged).Value);
    }

    [Theory]
    [InlineData(1_000, 1_000, "")] // no longer than the cut: left as it is
    [InlineData(1_001, 1_000, "… (1 more characters)")]
    [InlineData(60_000, 1_000, "… (59000 more characters)")]
    public void ShortenKeepsTheFirstThousandCharacters(int length, int kept, string tail)
    {
        var path = new string('p', length);

        Assert.Equal(path[..kept] + tail, LongPathShortening.Shorten(path));
    }

    [Fact]
    public void ShortenNeverKeepsHalfACharacter()
    {
        // U+1F600 (two UTF-16 units) across the cut: kept whole or not at all, never its first half alone.
        var path = new string('p', LongPathShortening.MaxLength - 1) + "\U0001F600" + "tail";

        Assert.Equal(new string('p', LongPathShortening.MaxLength - 1) + "… (6 more characters)", LongPathShortening.Shorten(path));
    }

    private async Task<Serilog.Events.LogEvent> RequestLineAsync(string pathStart)
    {
        await Poll.UntilAsync(() => _factory.Logs.Events.Any(e => IsRequestLine(e, pathStart)), "the request's line");
        return _factory.Logs.Events.Single(e => IsRequestLine(e, pathStart));
    }

    private static bool IsRequestLine(Serilog.Events.LogEvent e, string pathStart) =>
        e.MessageTemplate.Text.StartsWith("HTTP ", StringComparison.Ordinal)
        && e.Properties.TryGetValue("RequestPath", out var path) && path is Serilog.Events.ScalarValue { Value: string text }
        && text.StartsWith(pathStart, StringComparison.Ordinal);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    /// <summary>A server whose API key lookups fail as a full disk's I/O does (SQLITE_IOERR): answered 503, with an error line.</summary>
    private sealed class KeyReadsFail : TwaBotApiFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services => services.ConfigureDbContext<TwaBotDbContext>(
                options => options.AddInterceptors(new FailKeyReads())));
        }

        private sealed class FailKeyReads : DbCommandInterceptor
        {
            public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
                DbCommand command, CommandEventData eventData,
                InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default) =>
                command.CommandText.Contains("FROM \"api_keys\"", StringComparison.Ordinal)
                    ? throw new SqliteException("SQLite Error 10: 'disk I/O error'.", 10)
                    : base.ReaderExecutingAsync(command, eventData, result, cancellationToken);
        }
    }
}
