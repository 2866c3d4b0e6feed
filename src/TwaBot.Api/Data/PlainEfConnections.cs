using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace TwaBot.Api.Data;

/// <summary>
/// Gives EF Core a plain <see cref="SqliteConnection"/> instead of the one its SQLite provider makes. The provider's
/// connection carries twelve SQL functions (regexp, decimal arithmetic, comparison and aggregates, the EF_DECIMAL
/// collation), and Microsoft.Data.Sqlite registers them on the pooled SQLite connection at every open and removes them
/// at every close: 24 native calls and 24 <c>SQLitePCL.hook_handle</c> objects per query or save, half of them left to
/// the finalizer (docs/performance.md, "A soak run"). No column is a decimal and no query uses Regex, so nothing here
/// needs them; such a query would fail with "no such function" (DatabaseTests guards the decimals).
/// </summary>
internal sealed class PlainEfConnections : DbConnectionInterceptor
{
    public override InterceptionResult<DbConnection> ConnectionCreating(
        ConnectionCreatingEventData eventData, InterceptionResult<DbConnection> result)
    {
        ArgumentNullException.ThrowIfNull(eventData);
        return eventData.ConnectionString is { } connectionString
            ? InterceptionResult<DbConnection>.SuppressWithResult(new SqliteConnection(connectionString))
            : result;
    }
}
