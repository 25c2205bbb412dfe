using System.Reflection;
using LeadFunctions.LocalHost;
using LeadFunctions.LocalHost.Http;
using LeadFunctions.LocalHost.Triggers;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Tests.Hosting;

/// <summary>
/// What the Functions host in Azure will index (the generated functions.metadata) is what the code intends,
/// and the local host serves exactly the same triggers, so running locally cannot drift from Azure.
/// </summary>
public sealed class FunctionsMetadataTests
{
    private static readonly IReadOnlyDictionary<string, FunctionMetadataEntry> Metadata = FunctionsMetadata.Load();

    [Theory]
    [InlineData("CaptureLead", "forms/{formId}", "OPTIONS,POST", "Anonymous")]
    [InlineData("TrackEvent", "events", "OPTIONS,POST", "Anonymous")]
    [InlineData("TrackOpen", "track/open", "GET,HEAD", "Anonymous")]
    [InlineData("TrackClick", "track/click", "GET,HEAD", "Anonymous")]
    [InlineData("Unsubscribe", "unsubscribe", "GET,POST", "Anonymous")]
    [InlineData("AcceptLead", "sales/accept", "GET,POST", "Anonymous")]
    [InlineData("RejectLead", "sales/reject", "GET,POST", "Anonymous")]
    [InlineData("ConfirmConsent", "consent/confirm", "GET,POST", "Anonymous")]
    [InlineData("GetLead", "leads/{id}", "GET", "Anonymous")]
    [InlineData("GetFunnel", "funnel", "GET", "Anonymous")]
    [InlineData("ListLeads", "leads", "GET", "Anonymous")]
    [InlineData("LookupLead", "leads/lookup", "POST", "Function")]
    [InlineData("ExportLead", "leads/{id}/export", "GET", "Function")]
    [InlineData("EraseLead", "leads/{id}", "DELETE", "Function")]
    [InlineData("RequestLeadData", "privacy/your-data", "GET,POST", "Anonymous")]
    [InlineData("ConfirmLeadDataRequest", "privacy/confirm", "GET,POST", "Anonymous")]
    [InlineData("ReplayPoisonMessages", "ops/poison/lead-events/replay", "POST", "Admin")]
    [InlineData("RunScoringDryRun", "ops/scoring/dry-run", "POST", "Admin")]
    [InlineData("ReceiveDeliveryReports", "email/delivery-reports", "OPTIONS,POST", "Anonymous")]
    [InlineData("ListFailedEmails", "ops/email/failed", "GET", "Admin")]
    [InlineData("RetryFailedEmails", "ops/email/failed/retry", "POST", "Admin")]
    // Anonymous at the host; the function decides from the Easy Auth principal (WorkspaceAccess).
    [InlineData("GetWorkspaceUser", "workspace/me", "GET", "Anonymous")]
    [InlineData("ShowWorkspace", "workspace", "GET", "Anonymous")]
    [InlineData("ShowWorkspaceAsset", "workspace/assets/{name}", "GET", "Anonymous")]
    [InlineData("ShowWorkspaceOverview", "workspace/overview", "GET", "Anonymous")]
    [InlineData("SearchLeads", "workspace/search", "POST", "Anonymous")]
    [InlineData("ListWebhookDeliveries", "ops/webhooks/deliveries", "GET", "Admin")]
    [InlineData("RetryWebhookDeliveries", "ops/webhooks/deliveries/retry", "POST", "Admin")]
    [InlineData("ChangeLeadStage", "leads/{id}/stage", "POST", "Anonymous")]
    [InlineData("ReceiveCrmEvents", "crm/events", "POST", "Anonymous")]
    [InlineData("GetScoringCalibration", "ops/scoring/calibration", "GET", "Admin")]
    [InlineData("PreviewNurtureStep", "ops/nurture/preview", "POST", "Admin")]
    [InlineData("ShowWorkspaceCalibration", "workspace/calibration", "GET", "Anonymous")]
    [InlineData("PublishScoringModel", "workspace/scoring/models", "POST", "Anonymous")]
    [InlineData("ListScoringModels", "workspace/scoring/models", "GET", "Anonymous")]
    [InlineData("StartScoringRescore", "workspace/scoring/rescores", "POST", "Anonymous")]
    [InlineData("GetScoringRescore", "workspace/scoring/rescores/{id}", "GET", "Anonymous")]
    [InlineData("GetNurtureResults", "ops/nurture/results", "GET", "Admin")]
    [InlineData("BackfillLeadIndex", "ops/leads/index/backfill", "POST", "Admin")]
    [InlineData("ShowWorkspaceNurtureResults", "workspace/nurture/results", "GET", "Anonymous")]
    public void An_http_function_is_generated_with_its_route_methods_and_auth_level(string name, string route, string methods, string authLevel)
    {
        // Act
        var trigger = Assert.Contains(name, Metadata).Trigger;

        // Assert
        Assert.Equal("httpTrigger", trigger.Type);
        Assert.Equal(route, trigger.Route);
        Assert.Equal(methods.Split(','), trigger.Methods);
        Assert.Equal(authLevel, trigger.AuthLevel);
    }

    [Fact]
    public void Rescoring_is_generated_as_a_trigger_on_the_lead_events_queue_of_the_LeadStorage_connection()
    {
        var trigger = Assert.Contains("RescoreLead", Metadata).Trigger;

        Assert.Equal("queueTrigger", trigger.Type);
        Assert.Equal("lead-events", trigger.QueueName);
        Assert.Equal("LeadStorage", trigger.Connection);
    }

    [Fact]
    public void The_nurture_timer_is_generated_with_the_schedule_taken_from_the_NurtureSchedule_setting()
    {
        var trigger = Assert.Contains("SendNurture", Metadata).Trigger;

        Assert.Equal("timerTrigger", trigger.Type);
        Assert.Equal("%NurtureSchedule%", trigger.Schedule);
    }

    [Fact]
    public void The_retention_timer_is_generated_with_the_schedule_taken_from_the_RetentionSchedule_setting()
    {
        var trigger = Assert.Contains("ApplyRetention", Metadata).Trigger;

        Assert.Equal("timerTrigger", trigger.Type);
        Assert.Equal("%RetentionSchedule%", trigger.Schedule);
    }

    [Fact]
    public void The_webhook_timer_is_generated_with_the_schedule_taken_from_the_WebhookSchedule_setting()
    {
        var trigger = Assert.Contains("DeliverWebhooks", Metadata).Trigger;

        Assert.Equal("timerTrigger", trigger.Type);
        Assert.Equal("%WebhookSchedule%", trigger.Schedule);
    }

    [Fact]
    public void The_rescore_timer_is_generated_with_the_schedule_taken_from_the_ScoringRescoreSchedule_setting()
    {
        var trigger = Assert.Contains("RunScoringRescores", Metadata).Trigger;

        Assert.Equal("timerTrigger", trigger.Type);
        Assert.Equal("%ScoringRescoreSchedule%", trigger.Schedule);
    }

    [Fact]
    public void Every_function_method_in_the_app_is_in_the_generated_metadata_and_nothing_else_is()
    {
        // Arrange: the [Function] names declared in code.
        var declared = HttpFunction.FunctionClasses(LocalHostApp.FunctionsAssembly)
            .SelectMany(t => t.GetMethods())
            .Select(m => m.GetCustomAttribute<FunctionAttribute>()?.Name)
            .OfType<string>()
            .Order(StringComparer.Ordinal);

        // Assert
        Assert.Equal(declared, Metadata.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_local_host_maps_every_http_function_with_the_generated_route_methods_and_auth_level()
    {
        // Arrange
        var generated = Metadata.Values.Where(f => f.Trigger.Type == "httpTrigger")
            .Select(f => (f.Name, Route: f.Trigger.Route, Methods: string.Join(',', f.Trigger.Methods), Auth: f.Trigger.AuthLevel))
            .OrderBy(f => f.Name, StringComparer.Ordinal);

        // Act
        var mapped = HttpFunction.Discover(LocalHostApp.FunctionsAssembly)
            .Select(f => (f.Name, Route: (string?)f.Route, Methods: string.Join(',', f.Methods.Order(StringComparer.Ordinal)), Auth: (string?)f.AuthLevel.ToString()))
            .OrderBy(f => f.Name, StringComparer.Ordinal);

        // Assert
        Assert.NotEmpty(generated);
        Assert.Equal(generated, mapped);
    }

    [Fact]
    public void Every_queue_and_timer_function_has_a_local_host_adapter_with_the_same_trigger()
    {
        // Arrange
        var generated = Metadata.Values.Where(f => f.Trigger.Type is "queueTrigger" or "timerTrigger")
            .Select(f => (f.Name, f.Trigger.Type, Queue: f.Trigger.QueueName, f.Trigger.Connection, f.Trigger.Schedule))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToArray();

        // Act: the WebJobs attributes on the adapters.
        var adapters = TriggerAdapters.All
            .SelectMany(t => t.GetMethods())
            .Where(m => m.GetCustomAttribute<Microsoft.Azure.WebJobs.FunctionNameAttribute>() is not null)
            .Select(Describe)
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToArray();

        // Assert
        Assert.NotEmpty(generated);
        Assert.Equal(generated, adapters);
    }

    private static (string Name, string Type, string? Queue, string? Connection, string? Schedule) Describe(MethodInfo method)
    {
        var name = method.GetCustomAttribute<Microsoft.Azure.WebJobs.FunctionNameAttribute>()!.Name;
        foreach (var parameter in method.GetParameters())
        {
            if (parameter.GetCustomAttribute<Microsoft.Azure.WebJobs.QueueTriggerAttribute>() is { } queue)
                return (name, "queueTrigger", queue.QueueName, queue.Connection, null);
            if (parameter.GetCustomAttribute<Microsoft.Azure.WebJobs.TimerTriggerAttribute>() is { } timer)
                return (name, "timerTrigger", null, null, timer.ScheduleExpression);
        }
        throw new InvalidOperationException($"Adapter {method.DeclaringType?.Name}.{method.Name} has no queue or timer trigger.");
    }
}
