using System.Globalization;
using Microsoft.Data.Sqlite;

namespace TwaBot.Api.Data;

/// <summary>
/// Raw SQLite statements for the hot paths, each prepared once per unit of work and re-bound per
/// row: a fraction of the cost of an EF Core query, which matters at thousands of rows a second.
/// </summary>
public sealed class PreparedCommands(SqliteConnection connection) : IAsyncDisposable, IDisposable
{
    /// <summary>EF Core's text form of DateTime in SQLite, so both write the same.</summary>
    public const string DateTimeFormat = "yyyy-MM-dd HH:mm:ss.FFFFFFF";

    private readonly Dictionary<string, SqliteCommand> _commands = new(StringComparer.Ordinal);

    /// <summary>The transaction the statements run in; SQLite requires it on every command while one is open.</summary>
    public SqliteTransaction? Transaction { get; set; }

    public static string Text(DateTime value) => value.ToString(DateTimeFormat, CultureInfo.InvariantCulture);

    public static string Text(DateOnly value) => value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>The statement for <paramref name="sql"/>, with the parameters bound to these values.</summary>
    public SqliteCommand Bind(string sql, params (string Name, object? Value)[] values)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, _) in values)
            {
                command.Parameters.Add(new SqliteParameter { ParameterName = name });
            }

            _commands[sql] = command;
        }

        command.Transaction = Transaction;
        foreach (var (name, value) in values)
        {
            command.Parameters[name].Value = value ?? DBNull.Value;
        }

        return command;
    }

    // Disposing a SqliteCommand does no I/O, so the async form has nothing to wait for.
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    public void Dispose()
    {
        foreach (var command in _commands.Values)
        {
            command.Dispose();
        }

        _commands.Clear();
    }
}
