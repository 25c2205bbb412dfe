using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace LeadFunctions.Infrastructure.Email.DeliveryReports;

/// <summary>The validation answer of the Event Grid schema handshake.</summary>
public sealed record SubscriptionValidationAnswer([property: System.Text.Json.Serialization.JsonPropertyName("validationResponse")] string ValidationResponse);

/// <summary>What a delivery was recorded as (ids and counts only).</summary>
public sealed record DeliveryReportsAccepted(int Counted, int Duplicates, int Ignored);

/// <summary>Maps a <see cref="DeliveryReportOutcome"/> to the HTTP answer Event Grid expects.</summary>
public static class DeliveryReportResults
{
    public static IActionResult ToActionResult(DeliveryReportOutcome outcome, HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        ArgumentNullException.ThrowIfNull(request);
        switch (outcome.Kind)
        {
            case DeliveryReportOutcomeKind.Disabled:
                return new NotFoundResult();
            case DeliveryReportOutcomeKind.Unauthorized:
                outcome = outcome with { ProblemCode = "webhook-secret-required", Title = "The webhook secret is missing or wrong.", Detail = $"Send the configured secret as ?{DeliveryReportEndpoint.SecretParameter}=." };
                break;
            case DeliveryReportOutcomeKind.Handshake:
                request.HttpContext.Response.Headers["WebHook-Allowed-Origin"] = outcome.AllowedOrigin;
                request.HttpContext.Response.Headers["WebHook-Allowed-Rate"] = "*";
                return new OkResult();
            case DeliveryReportOutcomeKind.ValidationAnswered:
                return new OkObjectResult(new SubscriptionValidationAnswer(outcome.ValidationCode!));
            case DeliveryReportOutcomeKind.Accepted:
                return new OkObjectResult(new DeliveryReportsAccepted(outcome.Counted, outcome.Duplicates, outcome.Ignored));
        }

        if (outcome.Kind == DeliveryReportOutcomeKind.Unavailable)
            request.HttpContext.Response.Headers.RetryAfter = "30";
        var details = new ProblemDetails
        {
            Type = Domain.ProblemTypes.Of(outcome.ProblemCode!),
            Title = outcome.Title,
            Status = outcome.Status,
            Detail = outcome.Detail,
            Instance = request.Path.HasValue ? request.Path.Value : null,
        };
        if (outcome.Field is { } field)
            details.Extensions["errors"] = new Dictionary<string, string[]> { [field] = [outcome.Detail ?? ""] };
        var result = new ObjectResult(details) { StatusCode = outcome.Status };
        result.ContentTypes.Add("application/problem+json");
        return result;
    }
}
