using System.Text;
using LeadFunctions.Domain;
using System.Text.Json;
using LeadFunctions.Domain.Nurture;
using LeadFunctions.Infrastructure.Nurture;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Admin;

/// <summary>
/// <c>POST /api/ops/nurture/preview</c> (master/admin key), body <c>{ "programme": "…", "step": "…", "lead": { "profile": { … } } }</c>:
/// the step's subject, HTML and text exactly as the timer would send them, for the posted sample lead or a built-in one, with
/// its signed links (for a reserved preview lead id the tracking endpoints never count) and warnings for variables the lead
/// lacks. Unknown programme or step: 404 naming it; a template that fails: 422 with the error. Writes nothing.
/// </summary>
public sealed class PreviewNurtureStep(INurturePreview preview)
{
    private const int MaxBodyBytes = 64 * 1024;
    private const int MaxIdLength = 40;
    private static readonly string[] Allowed = ["programme", "step", "lead"];

    [Function(nameof(PreviewNurtureStep))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "ops/nurture/preview")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ContentLength > MaxBodyBytes)
            return Problem(StatusCodes.Status413PayloadTooLarge, "body", $"The body must be at most {MaxBodyBytes} bytes.");
        var body = await BoundedBody.ReadAsync(request.Body, MaxBodyBytes, cancellationToken);
        if (body is null)
            return Problem(StatusCodes.Status413PayloadTooLarge, "body", $"The body must be at most {MaxBodyBytes} bytes.");

        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 8 });
            root = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return ListFailedEmails.Problem("body", "The body must be a JSON object: { \"programme\": \"…\", \"step\": \"…\", \"lead\": { \"profile\": { … } } }.");
        }
        if (root.ValueKind != JsonValueKind.Object)
            return ListFailedEmails.Problem("body", "The body must be a JSON object.");
        foreach (var property in root.EnumerateObject())
        {
            if (!Allowed.Contains(property.Name, StringComparer.Ordinal))
                return ListFailedEmails.Problem(Bounded(property.Name), $"Unknown field; the body takes {string.Join(", ", Allowed)}.");
        }

        if (Id(root, "programme") is not { } programme)
            return ListFailedEmails.Problem("programme", $"programme is required: a programme id of nurture.json (at most {MaxIdLength} characters).");
        if (Id(root, "step") is not { } step)
            return ListFailedEmails.Problem("step", $"step is required: a step id of the programme (at most {MaxIdLength} characters).");

        IReadOnlyDictionary<string, string>? profile = null;
        if (root.TryGetProperty("lead", out var lead) && lead.ValueKind != JsonValueKind.Null)
        {
            var (read, field, problem) = ReadProfile(lead);
            if (problem is not null)
                return ListFailedEmails.Problem(field!, problem);
            profile = read;
        }

        var outcome = preview.Preview(programme, step, profile);
        return outcome.Result is { } result
            ? new OkObjectResult(new { subject = result.Subject, html = result.Html, text = result.Text, links = result.Links, warnings = result.Warnings })
            : Problem(outcome.Status, outcome.Field!, outcome.Detail!);
    }

    private static string? Id(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 and <= MaxIdLength } id ? id : null;

    private static (Dictionary<string, string>? Profile, string? Field, string? Problem) ReadProfile(JsonElement lead)
    {
        if (lead.ValueKind != JsonValueKind.Object)
            return (null, "lead", "lead must be an object: { \"profile\": { \"firstName\": \"…\" } }.");
        foreach (var property in lead.EnumerateObject())
        {
            if (property.Name != "profile")
                return (null, "lead." + Bounded(property.Name), "Unknown field; a sample lead takes only profile.");
        }
        var profile = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!lead.TryGetProperty("profile", out var fields) || fields.ValueKind == JsonValueKind.Null)
            return (profile, null, null);
        if (fields.ValueKind != JsonValueKind.Object)
            return (null, "lead.profile", "lead.profile must be an object of field names to text.");
        foreach (var field in fields.EnumerateObject())
        {
            var name = "lead.profile." + Bounded(field.Name);
            if (profile.Count >= NurturePreview.MaxProfileFields)
                return (null, "lead.profile", $"lead.profile may have at most {NurturePreview.MaxProfileFields} fields.");
            if (field.Name.Length is 0 or > NurturePreview.MaxFieldNameLength)
                return (null, name, $"A profile field name must be 1-{NurturePreview.MaxFieldNameLength} characters.");
            if (field.Value.ValueKind != JsonValueKind.String || field.Value.GetString() is not { } value)
                return (null, name, "A profile value must be text.");
            if (value.Length > NurturePreview.MaxFieldValueLength)
                return (null, name, $"A profile value must be at most {NurturePreview.MaxFieldValueLength} characters.");
            profile[field.Name] = value;
        }
        return (profile, null, null);
    }

    private static string Bounded(string name) => name.Length > 64 ? name[..64] : name;

    private static ObjectResult Problem(int status, string field, string detail) => new(new ValidationProblemDetails(new Dictionary<string, string[]> { [field] = [detail] })
    {
        Type = ProblemTypes.Prefix + "nurture-preview",
        Status = status,
        Title = status switch
        {
            StatusCodes.Status404NotFound => $"The {field} was not found.",
            StatusCodes.Status413PayloadTooLarge => "The body is too large.",
            StatusCodes.Status422UnprocessableEntity => "The template did not render.",
            _ => $"The {field} is invalid.",
        },
        Detail = detail,
    })
    { StatusCode = status };
}
