namespace TwaBot.Api.Admin;

/// <summary>
/// One call at a time per business. A business's turn exists only while a call holds or awaits it, so that
/// the ids calls name (a mistyped one included) do not pile up.
/// </summary>
internal sealed class BusinessTurns
{
    private readonly Dictionary<long, (SemaphoreSlim Turn, int Users)> _turns = [];

    /// <summary>Runs <paramref name="call"/> once no other call of the business runs; the wait ends with <paramref name="cancellationToken"/>.</summary>
    public async Task<T> OneAtATimeAsync<T>(long businessId, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        SemaphoreSlim turn;
        lock (_turns)
        {
            turn = _turns.TryGetValue(businessId, out var entry) ? entry.Turn : new SemaphoreSlim(1, 1);
            _turns[businessId] = (turn, entry.Users + 1);
        }

        try
        {
            await turn.WaitAsync(cancellationToken);
            try
            {
                return await call();
            }
            finally
            {
                turn.Release();
            }
        }
        finally
        {
            lock (_turns)
            {
                var users = _turns[businessId].Users - 1;
                if (users == 0)
                {
                    _turns.Remove(businessId);
                    turn.Dispose();
                }
                else
                {
                    _turns[businessId] = (turn, users);
                }
            }
        }
    }

    /// <summary>Whether a call of the business holds or awaits its turn.</summary>
    public bool IsInUse(long businessId)
    {
        lock (_turns)
        {
            return _turns.ContainsKey(businessId);
        }
    }
}
