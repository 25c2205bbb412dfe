using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;

namespace LeadFunctions.Domain.SalesAlerts;

/// <summary>Where an SQL came from, for the rep: the form it filled in and the page it was on (an http(s) URL, shown as text).</summary>
public sealed record SqlOrigin(string? FormId, string EventType, string? LandingPageUrl)
{
    public const int MaxUrlLength = 500;

    public static SqlOrigin From(LeadEvent leadEvent)
    {
        ArgumentNullException.ThrowIfNull(leadEvent);
        var page = leadEvent.Context?.LandingPageUrl ?? (leadEvent.Type == LeadEventTypes.PageView ? leadEvent.Property(LeadEventProperties.Url) : null);
        return new SqlOrigin(leadEvent.FormId, leadEvent.Type, HttpUrl(page));
    }

    /// <summary>
    /// The events worth asking about, best first: the one that made the lead an SQL (from the stage history), then the latest form
    /// submission in the ledger (when the SQL came from a score, the form is still what the rep wants to see).
    /// </summary>
    public static IReadOnlyList<string> CandidateEventIds(LeadDetails details, DateTimeOffset sqlAt)
    {
        ArgumentNullException.ThrowIfNull(details);
        var ids = new List<string>(2);
        var transition = details.History.Where(h => h.To == LifecycleStage.Sql && h.At <= sqlAt).OrderBy(h => h.At).LastOrDefault();
        if (transition?.EventId is { Length: > 0 } causing)
            ids.Add(causing);
        var form = details.Ledger.Where(e => e.EventType == LeadEventTypes.FormSubmission && e.At <= sqlAt).OrderBy(e => e.At).LastOrDefault();
        if (form is not null && !ids.Contains(form.EventId))
            ids.Add(form.EventId);
        return ids;
    }

    /// <summary>Only absolute http(s) URLs, cut to a bound: anything else is not a page a rep should be shown.</summary>
    private static string? HttpUrl(string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || !Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            return null;
        var url = uri.AbsoluteUri;
        return url.Length > MaxUrlLength ? url[..MaxUrlLength] + "…" : url;
    }
}

/// <summary>Reads an event as it was applied to a lead (kept with the applied-event record), for explaining the lead later.</summary>
public interface ILeadEventArchive
{
    Task<LeadEvent?> FindAppliedAsync(string leadId, string eventId, CancellationToken cancellationToken);
}
