using System.Diagnostics;

namespace TwaBot.Api.Meta;

/// <summary>
/// What a call to Meta carries of the trace: the <c>traceparent</c> only. The default propagator also passes on the
/// caller's <c>tracestate</c> and <c>baggage</c>, which hold what a CRM chose to tell its own services (a user id, a
/// tenant); Meta is a third party and needs none of it. Reading incoming headers is left to the default.
/// </summary>
internal sealed class TraceParentOnlyPropagator : DistributedContextPropagator
{
    private const string TraceParent = "traceparent";

    private static readonly DistributedContextPropagator Default = CreateDefaultPropagator();

    public static readonly TraceParentOnlyPropagator Instance = new();

    public override IReadOnlyCollection<string> Fields { get; } = [TraceParent];

    public override void Inject(Activity? activity, object? carrier, PropagatorSetterCallback? setter)
    {
        if (setter is null)
        {
            return;
        }

        Default.Inject(activity, carrier, (to, name, value) =>
        {
            if (string.Equals(name, TraceParent, StringComparison.OrdinalIgnoreCase))
            {
                setter(to, name, value);
            }
        });
    }

    public override void ExtractTraceIdAndState(object? carrier, PropagatorGetterCallback? getter, out string? traceId, out string? traceState) =>
        Default.ExtractTraceIdAndState(carrier, getter, out traceId, out traceState);

    public override IEnumerable<KeyValuePair<string, string?>>? ExtractBaggage(object? carrier, PropagatorGetterCallback? getter) =>
        Default.ExtractBaggage(carrier, getter);
}
