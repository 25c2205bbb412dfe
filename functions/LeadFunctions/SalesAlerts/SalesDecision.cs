using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Tracking;
using LeadFunctions.Infrastructure.Capture;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Tracking;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.SalesAlerts;

/// <summary>
/// The signed links in a sales alert. <c>GET</c> shows a small page (nothing changes on a GET, which link scanners make);
/// <c>POST</c> queues a sales-decision event: accept, or reject with a reason and the stage to return to (MQL or Lead).
/// </summary>
public sealed class SalesDecision(IEngagementTracker tracker, CaptureRateLimiter limiter)
{
    private const int MaxReasonLength = 500;

    [Function("AcceptLead")]
    public Task<IActionResult> Accept(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", Route = TrackingRoutes.Accept)] HttpRequest request,
        CancellationToken cancellationToken) =>
        HandleAsync(request, TrackingKind.Accept, cancellationToken);

    [Function("RejectLead")]
    public Task<IActionResult> Reject(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", Route = TrackingRoutes.Reject)] HttpRequest request,
        CancellationToken cancellationToken) =>
        HandleAsync(request, TrackingKind.Reject, cancellationToken);

    private async Task<IActionResult> HandleAsync(HttpRequest request, TrackingKind kind, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (limiter.AcquireForClient(RateLimitPolicy.Links, request) is { Allowed: false } limited)
            return CaptureResults.TooManyRequests(limited, request);
        var link = tracker.VerifySalesLink(request.Query[TrackingRoutes.TokenParameter], kind);
        if (link is null)
            return TrackingPages.NotFound();
        var action = request.Path + request.QueryString;
        var leadLine = $"<p>Lead <code>{TrackingPages.Encode(link.LeadId)}</code>, sales-qualified at {TrackingPages.Encode(link.SqlAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture))}.</p>";

        if (HttpMethods.IsGet(request.Method))
        {
            if (await tracker.CheckSalesLinkAsync(link, cancellationToken) is var status and not SalesLinkStatus.Open)
                return Refused(leadLine, status);
            return kind == TrackingKind.Accept
                ? TrackingPages.Page("Accept this lead", leadLine + TrackingPages.Form(action, "", "Accept"))
                : TrackingPages.Page("Reject this lead", leadLine + TrackingPages.Form(action,
                    "<label for=\"reason\">Why is it not ready for sales?</label>" +
                    $"<textarea id=\"reason\" name=\"reason\" rows=\"4\" maxlength=\"{MaxReasonLength}\" required></textarea>" +
                    "<label for=\"toStage\">Send it back to</label>" +
                    "<select id=\"toStage\" name=\"toStage\"><option value=\"mql\">MQL (keep nurturing)</option><option value=\"lead\">Lead</option></select>",
                    "Reject"));
        }

        if (kind == TrackingKind.Accept)
        {
            var accepted = await DecideAsync(link, SalesDecisions.Accept, null, null, cancellationToken);
            return accepted == SalesLinkStatus.Recorded
                ? TrackingPages.Page("Lead accepted", leadLine + "<p>Thank you. The SLA clock is stopped.</p>")
                : Refused(leadLine, accepted);
        }

        var form = await TrackingPages.ReadFormAsync(request, cancellationToken);
        if (form is null)
            return TrackingPages.Page("Reject this lead", "<p>Expected a form with reason and toStage.</p>", StatusCodes.Status400BadRequest);
        var reason = form["reason"].ToString().Trim();
        LifecycleStage? toStage = form["toStage"].ToString().Trim().ToLowerInvariant() switch
        {
            "mql" => LifecycleStage.Mql,
            "lead" => LifecycleStage.Lead,
            _ => null,
        };
        if (reason.Length == 0 || reason.Length > MaxReasonLength || toStage is null)
        {
            return TrackingPages.Page("Reject this lead",
                $"<p>Please give a reason (up to {MaxReasonLength} characters) and choose MQL or Lead.</p>", 400);
        }
        var rejected = await DecideAsync(link, SalesDecisions.Reject, toStage, reason, cancellationToken);
        return rejected == SalesLinkStatus.Recorded
            ? TrackingPages.Page("Lead rejected", leadLine + $"<p>It goes back to {TrackingPages.Encode(toStage.ToString())}.</p>")
            : Refused(leadLine, rejected);
    }

    /// <summary>A decision that could not be queued is a 503: posting the same decision again queues it then.</summary>
    private async Task<SalesLinkStatus?> DecideAsync(SalesLink link, string decision, LifecycleStage? toStage, string? reason, CancellationToken cancellationToken)
    {
        try
        {
            return await tracker.DecideAsync(link, decision, toStage, reason, cancellationToken);
        }
        catch (LeadEventNotAcceptedException)
        {
            return null;
        }
    }

    /// <summary>An old or already used link: it says what happened and changes nothing.</summary>
    private static ContentResult Refused(string leadLine, SalesLinkStatus? status) => status switch
    {
        SalesLinkStatus.AlreadyDecided => TrackingPages.Page("Already decided",
            leadLine + "<p>Someone has already accepted or rejected this lead for this alert. Nothing was changed.</p>", StatusCodes.Status409Conflict),
        SalesLinkStatus.MovedOn => TrackingPages.Page("This lead has moved on",
            leadLine + "<p>The lead is no longer the sales-qualified lead this alert was about (it was accepted, sent back or qualified again since). Nothing was changed.</p>",
            StatusCodes.Status409Conflict),
        _ => TrackingPages.Page("Please try again",
            leadLine + "<p>Your decision could not be saved just now. Please try again in a minute.</p>", StatusCodes.Status503ServiceUnavailable),
    };
}
