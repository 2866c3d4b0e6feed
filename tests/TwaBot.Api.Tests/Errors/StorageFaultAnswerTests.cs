using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using TwaBot.Api.Errors;

namespace TwaBot.Api.Tests.Errors;

/// <summary>
/// SQLite's errors that pass when the condition clears (a lock another process holds, a full disk) answer 503 with
/// Retry-After, retryable; a damaged file or a broken rule stays a 500.
/// </summary>
public class StorageFaultAnswerTests
{
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
            var context = new DefaultHttpContext();
            context.Response.Body = new MemoryStream();
            context.RequestServices = new ServiceCollection().AddLogging().BuildServiceProvider();

            Assert.True(await new ApiExceptionHandler(NullLogger<ApiExceptionHandler>.Instance).TryHandleAsync(context, exception, default));

            Assert.Equal(status, context.Response.StatusCode);
            context.Response.Body.Position = 0;
            using var body = await JsonDocument.ParseAsync(context.Response.Body);
            Assert.Equal(status == 503 ? "STORAGE_UNAVAILABLE" : "INTERNAL_ERROR", body.RootElement.GetProperty("error_code").GetString());
            Assert.Equal(status == 503 ? "5" : null, context.Response.Headers.RetryAfter.FirstOrDefault());
            Assert.Equal(status == 503 ? 5 : (int?)null, body.RootElement.TryGetProperty("retry_after_seconds", out var seconds) ? seconds.GetInt32() : null);
        }
    }
}
