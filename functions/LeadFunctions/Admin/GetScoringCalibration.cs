using LeadFunctions.Domain.Scoring;
using LeadFunctions.Infrastructure.Scoring;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Admin;

/// <summary>What both calibration endpoints answer: the report, how many leads it covers, and whether the scan stopped early.</summary>
public sealed record CalibrationView(bool Partial, int LeadsScanned, int MaxLeads, CalibrationReport Report);

/// <summary>
/// <c>GET /api/ops/scoring/calibration?bands=0,20,40&amp;recentDays=90&amp;maxLeads=5000&amp;format=json|text</c> (admin key):
/// conversion by score band and fit grade at first qualification, with Wilson intervals, a suggested MQL bar and drift
/// warnings (docs/scoring.md). A report job: it reads the leads table, at most <c>maxLeads</c> leads per call.
/// </summary>
public sealed class GetScoringCalibration(CalibrationReports reports)
{
    [Function(nameof(GetScoringCalibration))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Admin, "get", Route = "ops/scoring/calibration")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (result, _) = await Answer(reports, request, cancellationToken);
        return result;
    }

    /// <summary>Shared with the workspace endpoint: parse, build, render as JSON or text; a bad parameter is a 400 naming it.</summary>
    internal static async Task<(IActionResult Result, bool Ok)> Answer(CalibrationReports reports, HttpRequest request, CancellationToken cancellationToken)
    {
        var format = request.Query["format"].ToString();
        if (format is not ("" or "json" or "text"))
            return (ListFailedEmails.Problem("format", "format must be json or text."), false);
        var query = CalibrationReports.Parse(request.Query["bands"].ToString(), request.Query["recentDays"].ToString(), request.Query["maxLeads"].ToString(), out var error);
        if (query is null)
            return (ListFailedEmails.Problem(error!.Field, error.Message), false);
        var built = await reports.BuildAsync(query, cancellationToken);
        if (format == "text")
        {
            return (new ContentResult
            {
                Content = CalibrationText.Render(built.Report, built.Partial),
                ContentType = "text/plain; charset=utf-8",
                StatusCode = StatusCodes.Status200OK,
            }, true);
        }
        return (new OkObjectResult(new CalibrationView(built.Partial, built.LeadsScanned, query.MaxLeads, built.Report)), true);
    }
}
