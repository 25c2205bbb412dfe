using System.Globalization;
using LeadFunctions.Domain;
using System.Text;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Domain.Scoring.DryRun;
using LeadFunctions.Infrastructure.Scoring;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Admin;

/// <summary>
/// <c>POST /api/ops/scoring/dry-run?stage=&amp;form=&amp;from=&amp;to=&amp;limit=&amp;format=text</c> (master/admin key), the proposed
/// model file as the body: what it would change for up to <see cref="ScoringDryRunService.MaxLeadsPerCall"/> stored leads
/// (first by lead id), writing nothing. An invalid model is a 400 listing the loader's errors. The whole table is the CLI's job.
/// </summary>
public sealed class RunScoringDryRun(ScoringDryRunService dryRun)
{
    private const int MaxBodyBytes = 256 * 1024;

    [Function(nameof(RunScoringDryRun))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "ops/scoring/dry-run")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = await BoundedBody.ReadAsync(request.Body, MaxBodyBytes, cancellationToken);
        if (body is null)
            return ListFailedEmails.Problem("body", $"The body must be a scoring model file of at most {MaxBodyBytes} bytes.");

        var query = request.Query;
        var filter = new ReplayFilter();
        var stageText = query["stage"].ToString();
        if (stageText.Length > 0)
        {
            if (!Enum.TryParse<LifecycleStage>(stageText, ignoreCase: true, out var stage) || !Enum.IsDefined(stage) || int.TryParse(stageText, CultureInfo.InvariantCulture, out _))
                return ListFailedEmails.Problem("stage", "stage must be a lifecycle stage: Subscriber, Lead, MQL, SQL, Opportunity, Customer or Evangelist.");
            filter = filter with { Stage = stage };
        }
        var form = query["form"].ToString();
        if (form.Length > 200)
            return ListFailedEmails.Problem("form", "form must be a form id.");
        if (form.Length > 0)
            filter = filter with { FormId = form };
        foreach (var name in (string[])["from", "to"])
        {
            var text = query[name].ToString();
            if (text.Length == 0)
                continue;
            if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
                return ListFailedEmails.Problem(name, $"{name} must be a date (yyyy-mm-dd) or an ISO 8601 instant.");
            filter = name == "from" ? filter with { From = at } : filter with { To = at };
        }
        var limitText = query["limit"].ToString();
        if (limitText.Length > 0)
        {
            if (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) || limit < 1 || limit > ScoringDryRunService.MaxLeadsPerCall)
                return ListFailedEmails.Problem("limit", $"limit must be a whole number from 1 to {ScoringDryRunService.MaxLeadsPerCall}.");
            filter = filter with { MaxLeads = limit };
        }

        DryRunReport report;
        try
        {
            report = await dryRun.RunAsync(body, filter, cancellationToken);
        }
        catch (InvalidScoringModelException ex)
        {
            return new BadRequestObjectResult(new ValidationProblemDetails(new Dictionary<string, string[]> { ["model"] = [.. ex.Errors] })
            {
                Type = ProblemTypes.Prefix + "invalid-scoring-model",
                Status = StatusCodes.Status400BadRequest,
                Title = "The proposed scoring model is invalid.",
                Detail = string.Join("; ", ex.Errors),
            });
        }

        return string.Equals(query["format"].ToString(), "text", StringComparison.OrdinalIgnoreCase)
            ? new ContentResult { Content = report.ToText(), ContentType = "text/plain; charset=utf-8", StatusCode = 200 }
            : new ContentResult { Content = report.ToJson(), ContentType = "application/json; charset=utf-8", StatusCode = 200 };
    }
}
