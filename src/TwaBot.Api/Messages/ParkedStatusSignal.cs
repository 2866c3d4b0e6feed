namespace TwaBot.Api.Messages;

/// <summary>
/// Whether any status report may be parked. Nearly always none is, so an accepted send skips looking
/// for reports that raced ahead of it. Set when a report is parked; cleared by the webhook processor
/// when it finds the parked table empty (parking happens only inside the processor, so the two never
/// race). Anything the send path skips is applied by the processor's next pass anyway.
/// </summary>
public sealed class ParkedStatusSignal
{
    private volatile bool _mayExist = true; // until the processor has looked

    public bool MayExist => _mayExist;

    public void Parked() => _mayExist = true;

    public void FoundNone() => _mayExist = false;
}
