using System.Net;
using System.Text.RegularExpressions;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Nurture;
using LeadFunctions.Domain.Tracking;

namespace LeadFunctions.Infrastructure.Nurture;

/// <summary>A link of a rendered preview: where it points (a signed link of ours), what kind it is, and for a click its target.</summary>
public sealed record NurturePreviewLink(string Href, string Kind, string? Target);

/// <summary>A step rendered exactly as the composer would send it, with the links it holds and what may be wrong with it.</summary>
public sealed record NurturePreviewResult(string Subject, string Html, string Text, IReadOnlyList<NurturePreviewLink> Links, IReadOnlyList<string> Warnings);

/// <summary>Either a rendered preview, or the field that named nothing (404), or the render's error (422).</summary>
public sealed record NurturePreviewOutcome(NurturePreviewResult? Result, int Status = 200, string? Field = null, string? Detail = null);

/// <summary><c>POST /api/ops/nurture/preview</c>'s work: render one step of a programme for a sample lead.</summary>
public interface INurturePreview
{
    /// <param name="profile">The sample lead's profile; null for <see cref="NurturePreview.SampleProfile"/>.</param>
    NurturePreviewOutcome Preview(string programmeId, string stepId, IReadOnlyDictionary<string, string>? profile);
}

internal sealed partial class NurturePreviewService(
    NurtureConfiguration configuration,
    NurtureMailComposer composer,
    TrackingTokenSigner signer,
    LinkBuilder links,
    TimeProvider time) : INurturePreview
{
    public NurturePreviewOutcome Preview(string programmeId, string stepId, IReadOnlyDictionary<string, string>? profile)
    {
        var programme = configuration.Catalogue.Find(programmeId);
        if (programme is null)
            return new(null, 404, "programme", $"There is no programme '{programmeId}' in nurture.json (programmes: {string.Join(", ", configuration.Catalogue.Programmes.Keys.Order(StringComparer.Ordinal))}).");
        var step = programme.Steps.FirstOrDefault(s => s.Id == stepId);
        if (step is null)
            return new(null, 404, "step", $"Programme '{programme.Id}' has no step '{stepId}' (steps: {string.Join(", ", programme.Steps.Select(s => s.Id))}).");
        if (step.IsBranch)
            return new(null, 404, "step", $"Step '{step.Id}' of programme '{programme.Id}' is a branch: it sends nothing to preview (e-mail steps: {string.Join(", ", programme.Steps.Where(s => !s.IsBranch).Select(s => s.Id))}).");

        var now = time.GetUtcNow();
        var lead = new LeadSummary
        {
            LeadId = NurturePreview.LeadId,
            Email = NurturePreview.Email,
            Stage = LifecycleStage.Mql,
            StageChangedAt = now,
            Profile = profile ?? NurturePreview.SampleProfile,
            CreatedAt = now,
            UpdatedAt = now,
        };
        var missing = new List<string>();
        Domain.Messaging.EmailMessage message;
        try
        {
            message = composer.Nurture(lead, programme, step, $"{NurturePreview.LeadId}-{DueKinds.Nurture}-{programme.Id}-{step.Id}", now, now, missing);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A template that fails on this lead would park the real e-mail; the marketer sees why instead.
            return new(null, 422, "template", $"Programme '{programme.Id}' step '{step.Id}' (template '{step.Template}') did not render: {ex.Message}");
        }

        var warnings = missing.Select(m => $"{m} is not in this lead's data: it renders as nothing.").ToList();
        if (programme.Window is { } window)
        {
            var (zone, source) = LeadTimeZones.Resolve(lead.Profile, configuration.Catalogue.DefaultTimeZone);
            warnings.Add($"Sends only {window} in the lead's time zone (this lead: {zone.Id}, from {source.ToString().ToLowerInvariant()}).");
        }
        return new(new NurturePreviewResult(message.Subject, message.HtmlBody, message.TextBody, Links(message.HtmlBody), warnings));
    }

    /// <summary>Every link of the HTML, and for ours what the signed token says (a click's target, or what the link does).</summary>
    private List<NurturePreviewLink> Links(string html)
    {
        var found = new List<NurturePreviewLink>();
        foreach (Match match in LinkPattern().Matches(html))
        {
            var href = WebUtility.HtmlDecode(match.Groups[2].Value);
            if (!links.IsOurs(href) || !Uri.TryCreate(href, UriKind.Absolute, out var uri))
            {
                found.Add(new(href, "external", null));
                continue;
            }
            var token = System.Web.HttpUtility.ParseQueryString(uri.Query)[TrackingRoutes.TokenParameter];
            var claims = signer.Verify(token);
            found.Add(new(href, claims is null ? "unverified" : KindName(claims.Kind), claims?.Url));
        }
        return found;
    }

    private static string KindName(TrackingKind kind) => kind switch
    {
        TrackingKind.Click => "click",
        TrackingKind.Open => "open",
        TrackingKind.Unsubscribe => "unsubscribe",
        TrackingKind.DataRequest => "your-data",
        _ => kind.ToString().ToLowerInvariant(),
    };

    [GeneratedRegex(@"(href|src)\s*=\s*""([^""]*)""", RegexOptions.IgnoreCase)]
    private static partial Regex LinkPattern();
}
