using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using TwaBot.Api.Errors;

namespace TwaBot.Api.Tests.Errors;

/// <summary>
/// The exception handler called directly: for faults no test can make a real database raise on demand, and for what no
/// request reaches today (the pipeline answers those cases first, so only a direct call shows the handler still would,
/// were the middleware moved or a route added that it does not cover).
/// </summary>
public class ApiExceptionHandlerTests
{
    /// <summary>
    /// SQLite's errors that pass when the condition clears (a lock another process holds, a full disk) answer 503 with
    /// Retry-After, retryable; a damaged file or a broken rule stays a 500.
    /// </summary>
    [Theory]
    [InlineData(5, 503)]  // SQLITE_BUSY: another process held the write lock through the busy timeout
    [InlineData(6, 503)]  // SQLITE_LOCKED
    [InlineData(8, 503)]  // SQLITE_READONLY
    [InlineData(10, 503)] // SQLITE_IOERR
    [InlineData(13, 503)] // SQLITE_FULL
    [InlineData(14, 503)] // SQLITE_CANTOPEN
    [InlineData(11, 500)] // SQLITE_CORRUPT: a restore, not a retry
    [InlineData(19, 500)] // SQLITE_CONSTRAINT: a bug, not the disk
    public async Task AStorageFaultIsARetryableAnswer(int sqliteCode, int status)
    {
        foreach (var exception in new Exception[]
        {
            new SqliteException("SQLite Error", sqliteCode),
            new DbUpdateException("An error occurred while saving the entity changes.", new SqliteException("SQLite Error", sqliteCode)),
        })
        {
            var context = Context();

            Assert.True(await Handler().TryHandleAsync(context, exception, default));

            Assert.Equal(status, context.Response.StatusCode);
            context.Response.Body.Position = 0;
            using var body = await JsonDocument.ParseAsync(context.Response.Body);
            Assert.Equal(status == 503 ? "STORAGE_UNAVAILABLE" : "INTERNAL_ERROR", body.RootElement.GetProperty("error_code").GetString());
            Assert.Equal(status == 503 ? "5" : null, context.Response.Headers.RetryAfter.FirstOrDefault());
            Assert.Equal(status == 503 ? 5 : (int?)null, body.RootElement.TryGetProperty("retry_after_seconds", out var seconds) ? seconds.GetInt32() : null);
        }
    }

    [Fact]
    public async Task AnExceptionAfterTheAnswerStartedIsLeftToTheFramework()
    {
        // Its status and headers gone out, the answer cannot become the envelope: the framework ends the connection
        // rather than the handler writing JSON after the first bytes.
        var started = new StartedResponse();
        var context = Context();
        context.Features.Set<IHttpResponseFeature>(started);

        var handled = await Handler().TryHandleAsync(context, new InvalidOperationException("failed half-way through the answer"), default);

        Assert.False(handled);
        Assert.Equal(StatusCodes.Status200OK, started.StatusCode);
        Assert.Equal(0, context.Response.Body.Length);
    }

    [Theory] // UseUtf8BodiesOnly refuses these before the framework's JSON reader looks the charset up and throws
    [InlineData("application/json; charset=foo", "charset=foo")]
    [InlineData("application/json; charset=\"utf-7\"", "charset=utf-7")]
    public async Task TheReadersRefusalOfACharsetNoEncodingHasIsA415NamingIt(string contentType, string says)
    {
        var context = Context();
        context.Request.ContentType = contentType;
        // What the framework's reader throws for such a charset: Encoding.GetEncoding's refusal, wrapped.
        var refusal = new InvalidOperationException("Unable to read the request as JSON because the request content type charset is not a known encoding.",
            new ArgumentException("not a supported encoding name"));

        Assert.True(await Handler().TryHandleAsync(context, refusal, default));

        Assert.Equal(StatusCodes.Status415UnsupportedMediaType, context.Response.StatusCode);
        context.Response.Body.Position = 0;
        using var body = await JsonDocument.ParseAsync(context.Response.Body);
        Assert.Equal("UNSUPPORTED_MEDIA_TYPE", body.RootElement.GetProperty("error_code").GetString());
        Assert.Contains(says, body.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    private static ApiExceptionHandler Handler() => new(NullLogger<ApiExceptionHandler>.Instance);

    private static DefaultHttpContext Context()
    {
        var context = new DefaultHttpContext();
        context.Response.Body = new MemoryStream();
        context.RequestServices = new ServiceCollection().AddLogging().BuildServiceProvider();
        return context;
    }

    /// <summary>A response whose head has gone out: what a handler then writes would follow the first bytes.</summary>
    private sealed class StartedResponse : IHttpResponseFeature
    {
        public int StatusCode { get; set; } = StatusCodes.Status200OK;
        public string? ReasonPhrase { get; set; }
        public IHeaderDictionary Headers { get; set; } = new HeaderDictionary();
        public Stream Body { get; set; } = Stream.Null;
        public bool HasStarted => true;
        public void OnStarting(Func<object, Task> callback, object state) { }
        public void OnCompleted(Func<object, Task> callback, object state) { }
    }
}
