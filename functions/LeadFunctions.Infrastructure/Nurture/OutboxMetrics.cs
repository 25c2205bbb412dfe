using System.Diagnostics.Metrics;

namespace LeadFunctions.Infrastructure.Nurture;

/// <summary>
/// The outbox's backlog and outcomes (meter <c>LeadFunctions.Outbox</c>): a burst of SQLs queued behind the quota, or failures
/// piling up in the parked list, must show on a dashboard before sales notice missing alerts.
/// </summary>
public sealed class OutboxMetrics
{
    public const string MeterName = "LeadFunctions.Outbox";
    public const string DueGaugeName = "leadfunctions.outbox.due";
    public const string ParkedGaugeName = "leadfunctions.outbox.parked";
    public const string OldestDueAgeGaugeName = "leadfunctions.outbox.oldest_due_age";
    public const string SentCounterName = "leadfunctions.outbox.sent";
    public const string RetriedCounterName = "leadfunctions.outbox.retried";
    public const string ParkedCounterName = "leadfunctions.outbox.parked_items";
    public const string StoppedCounterName = "leadfunctions.outbox.run_stopped";

    private readonly Gauge<long> _due;
    private readonly Gauge<long> _parked;
    private readonly Gauge<double> _oldest;
    private readonly Counter<long> _sent;
    private readonly Counter<long> _retried;
    private readonly Counter<long> _parkedItems;
    private readonly Counter<long> _stopped;

    public OutboxMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _due = meter.CreateGauge<long>(DueGaugeName, unit: "{item}", description: "Due-index rows due now, by priority partition (at the end of each run).");
        _parked = meter.CreateGauge<long>(ParkedGaugeName, unit: "{item}", description: "Parked items waiting for an operator.");
        _oldest = meter.CreateGauge<double>(OldestDueAgeGaugeName, unit: "s", description: "How long the longest-waiting due row has been due.");
        _sent = meter.CreateCounter<long>(SentCounterName, unit: "{email}", description: "E-mails sent, by kind.");
        _retried = meter.CreateCounter<long>(RetriedCounterName, unit: "{item}", description: "Transient failures moved later with back-off, by kind.");
        _parkedItems = meter.CreateCounter<long>(ParkedCounterName, unit: "{item}", description: "Items parked, by kind and whether the failure was permanent.");
        _stopped = meter.CreateCounter<long>(StoppedCounterName, unit: "{run}", description: "Runs that stopped early, by reason (quota, run budget).");
    }

    internal void Backlog(OutboxBacklog backlog)
    {
        foreach (var (partition, count) in backlog.Due)
            _due.Record(count, new KeyValuePair<string, object?>("priority", partition == DuePartitions.Sales ? "sales" : "default"));
        _parked.Record(backlog.Parked);
        _oldest.Record(backlog.OldestDueAge.TotalSeconds);
    }

    internal void Sent(string kind) => _sent.Add(1, new KeyValuePair<string, object?>("kind", kind));

    internal void Retried(string kind) => _retried.Add(1, new KeyValuePair<string, object?>("kind", kind));

    internal void Parked(string kind, bool permanent) =>
        _parkedItems.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("permanent", permanent));

    internal void Stopped(string reason) => _stopped.Add(1, new KeyValuePair<string, object?>("reason", reason));
}
