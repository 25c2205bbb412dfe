using LeadFunctions.Domain.Capture;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Nurture;
using LeadFunctions.Domain.SalesAlerts;
using LeadFunctions.Domain.Tracking;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Tests.Nurture;

/// <summary>
/// Every shipped e-mail template rendered for a sample lead through the composer the timer uses, failing on a render error or
/// on a variable the model lacks (Liquid would quietly print nothing for <c>{{ lead.fristName }}</c>).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ShippedTemplatesTests(AzuriteFixture azurite)
{
    private static string Config => Path.Combine(AppContext.BaseDirectory, "config");

    [Fact]
    public async Task Every_shipped_template_renders_for_the_sample_lead_with_no_missing_variable()
    {
        // Arrange
        await using var harness = Harness(Path.Combine(Config, "templates"));

        // Act
        var (problems, rendered) = RenderAll(harness);

        // Assert: no problems, and nothing in the folder escaped the check.
        Assert.Empty(problems);
        var folder = Directory.GetFiles(Path.Combine(Config, "templates"), "*.html.liquid").Select(f => Path.GetFileName(f)[..^".html.liquid".Length]);
        Assert.Equal(folder.Order(StringComparer.Ordinal), rendered.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_check_fails_for_a_shipped_template_with_a_misspelt_lead_field()
    {
        // Arrange: the shipped templates, with one typo in the welcome e-mail.
        var folder = Path.Combine(Path.GetTempPath(), "lf-templates-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            foreach (var file in Directory.GetFiles(Path.Combine(Config, "templates")))
                File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
            var welcome = Path.Combine(folder, "nurture-welcome.html.liquid");
            File.WriteAllText(welcome, File.ReadAllText(welcome).Replace("lead.firstName", "lead.fristName", StringComparison.Ordinal));
            await using var harness = Harness(folder);

            // Act
            var (problems, _) = RenderAll(harness);

            // Assert
            Assert.Equal(["programme 'mql-welcome' step 'welcome': nurture-welcome.html.liquid: lead.fristName"], problems);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void The_built_in_sample_lead_has_every_profile_field_a_shipped_form_can_fill()
    {
        var forms = FormCatalog.Load(Path.Combine(Config, "forms.json"));

        var fields = forms.Forms.SelectMany(f => f.Fields).Select(f => f.ProfileField).OfType<string>().Distinct(StringComparer.Ordinal);

        Assert.All(fields, f => Assert.True(NurturePreview.SampleProfile.ContainsKey(f), $"the sample lead lacks '{f}'"));
    }

    private NurtureHarness Harness(string templates)
    {
        var programme = File.ReadAllText(Path.Combine(Config, "nurture.json"));
        return new NurtureHarness(azurite, programme: programme, settings: new Dictionary<string, string?> { ["Nurture:TemplatesFolder"] = templates });
    }

    /// <summary>Renders every step of every shipped programme, the sales alert, every SLA step, the consent and privacy e-mails.</summary>
    private static (List<string> Problems, HashSet<string> Rendered) RenderAll(NurtureHarness harness)
    {
        var composer = harness.Services.GetRequiredService<NurtureMailComposer>();
        var configuration = harness.Services.GetRequiredService<NurtureConfiguration>();
        var alerts = harness.Services.GetRequiredService<IOptions<SalesAlertOptions>>().Value;
        var nurture = harness.Services.GetRequiredService<IOptions<NurtureOptions>>().Value;
        var now = harness.Time.GetUtcNow();
        var lead = new LeadSummary
        {
            LeadId = TestLeadIds.LeadIdFor("sample@example.com"),
            Email = "sample@example.com",
            Stage = LifecycleStage.Sql,
            StageChangedAt = now,
            Profile = NurturePreview.SampleProfile,
            EngagementScore = 80,
            FitScore = 30,
            FitGrade = "A",
            ModelVersion = "sample",
            CreatedAt = now.AddDays(-3),
            UpdatedAt = now,
        };
        var details = new LeadDetails(lead,
            [
                new ScoreLedgerEntry("e1", "form-submission", "demo-request", "engagement", 60, now, "sample", 60, null),
                new ScoreLedgerEntry("e1", "form-submission", "role-executive", "fit", 20, now, "sample", 20, null),
            ],
            [new StageChange(now, LifecycleStage.Mql, LifecycleStage.Sql, "score crossed the SQL bar", "e1", "sample", "e1")]);
        var origin = new SqlOrigin("demo-request", "form-submission", "https://www.example.com/demo");

        var problems = new List<string>();
        var rendered = new HashSet<string>(StringComparer.Ordinal);
        void Check(string what, string template, Action<List<string>> render)
        {
            var missing = new List<string>();
            try
            {
                render(missing);
            }
#pragma warning disable CA1031 // a render error is what the test reports, whatever its type
            catch (Exception ex)
#pragma warning restore CA1031
            {
                problems.Add($"{what}: did not render: {ex.Message}");
            }
            problems.AddRange(missing.Select(m => $"{what}: {m}"));
            rendered.Add(template);
        }

        foreach (var programme in configuration.Catalogue.Programmes.Values)
        {
            foreach (var step in programme.Steps.Where(s => !s.IsBranch))
                Check($"programme '{programme.Id}' step '{step.Id}'", step.Template, m => composer.Nurture(lead with { Stage = LifecycleStage.Mql }, programme, step, "m1", now, now, m));
        }
        Check("sales alert", alerts.AlertTemplate, m => composer.SalesAlert(details, now, "rep@sales.example.com", "pool 'emea'", "m2", now, now, origin, m));
        foreach (var step in alerts.GetLadder().Steps)
        {
            Check($"SLA step '{step.Id}'", step.Template, m => composer.SlaStep(details, now, step, "boss@sales.example.com", "rep@sales.example.com", "pool 'emea'",
                step.Kind == SlaStepKind.Reroute ? "rep@sales.example.com" : null, "m3", now, now, origin, m));
        }
        Check("consent confirmation", nurture.ConfirmationTemplate, m => composer.ConsentConfirmation(lead, "m4", now, now, m));

        // The privacy e-mails are composed in DataRequests with these models (keep them in step with it).
        var profile = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in lead.Profile)
            profile[key] = value;
        foreach (var action in new[] { "erase", "export" })
        {
            Check($"privacy confirmation ({action})", "privacy-confirmation", m => configuration.Templates.Render("privacy-confirmation", "Confirm", new Dictionary<string, object?>
            {
                ["lead"] = profile,
                ["action"] = action,
                ["links"] = new Dictionary<string, object?> { ["confirm"] = "https://leads.contoso.example/api/privacy/confirm?t=x" },
                ["validHours"] = (int)TrackingLinkLifetimes.Default.DataRequestConfirm.TotalHours,
            }, m));
        }
        foreach (var tooLarge in new[] { true, false })
        {
            Check($"privacy export (too large: {tooLarge})", "privacy-export", m => configuration.Templates.Render("privacy-export", "Your data", new Dictionary<string, object?>
            {
                ["lead"] = profile,
                ["tooLarge"] = tooLarge,
                ["size"] = "123",
                ["export"] = tooLarge ? "" : "{}",
            }, m));
        }
        return (problems, rendered);
    }
}
