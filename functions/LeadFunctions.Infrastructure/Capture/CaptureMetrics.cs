using System.Diagnostics.Metrics;

namespace LeadFunctions.Infrastructure.Capture;

/// <summary>Counters of the capture endpoints (meter <c>LeadFunctions.Capture</c>): spam must be visible even though it creates nothing.</summary>
public sealed class CaptureMetrics
{
    public const string MeterName = "LeadFunctions.Capture";
    public const string HoneypotCounterName = "leadfunctions.capture.honeypot";
    public const string AcceptedCounterName = "leadfunctions.capture.accepted";
    public const string RefusedCounterName = "leadfunctions.capture.refused";

    private readonly Counter<long> _honeypot;
    private readonly Counter<long> _accepted;
    private readonly Counter<long> _refused;

    public CaptureMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _honeypot = meter.CreateCounter<long>(HoneypotCounterName, unit: "{submission}", description: "Form submissions with the honeypot filled: answered as success, not enqueued.");
        _accepted = meter.CreateCounter<long>(AcceptedCounterName, unit: "{event}", description: "Submissions and tracked events enqueued.");
        _refused = meter.CreateCounter<long>(RefusedCounterName, unit: "{request}", description: "Capture requests refused, by problem code.");
    }

    public void Honeypot(string formId) => _honeypot.Add(1, new KeyValuePair<string, object?>("form", formId));

    public void Accepted(string endpoint, string? formId) =>
        _accepted.Add(1, new KeyValuePair<string, object?>("endpoint", endpoint), new KeyValuePair<string, object?>("form", formId));

    public void Refused(string endpoint, string code) =>
        _refused.Add(1, new KeyValuePair<string, object?>("endpoint", endpoint), new KeyValuePair<string, object?>("code", code));
}
