using Microsoft.Data.Sqlite;
using TwaBot.Api.Data;

namespace TwaBot.Api.Tests.Data;

/// <summary>
/// A background write's short wait for another process's lock lasts only while it is in use: the connection goes back
/// to the pool with its context, and the next request on it must wait the full busy timeout again.
/// </summary>
public class ShortLockWaitTests
{
    [Fact]
    public void TheShortWaitEndsWithItsUseAndTheBusyTimeoutComesBack()
    {
        using var connection = new SqliteConnection("Data Source=:memory:;Default Timeout=30");

        using (new ShortLockWait(connection))
        {
            Assert.Equal(ShortLockWait.Seconds, connection.DefaultTimeout);
        }

        Assert.Equal(30, connection.DefaultTimeout);
    }
}
