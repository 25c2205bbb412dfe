using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Scoring;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Tests.Leads;

public sealed class ScoringStartupTests : IDisposable
{
    private readonly string _modelPath = Path.Combine(Path.GetTempPath(), "scoring-model-" + Guid.NewGuid().ToString("N") + ".json");

    [Fact]
    public async Task An_invalid_model_stops_the_app_at_start_naming_the_rule_and_the_problem()
    {
        await File.WriteAllTextAsync(_modelPath, ScoringHarness.ModelJson.Replace("\"points\": 3,", "\"points\": \"three\",", StringComparison.Ordinal));
        using var host = Host(_modelPath);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(error.Failures, f => f.EndsWith("engagementRules[2] (page-view): points must be a number", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_shipped_model_lets_the_app_start()
    {
        using var host = Host("config/scoring-model.json");

        await host.StartAsync();

        Assert.False(string.IsNullOrEmpty(host.Services.GetRequiredService<Domain.Scoring.ScoringModel>().Version));
        await host.StopAsync();
    }

    [Fact]
    public async Task Visitor_bounds_out_of_range_stop_the_app_at_start_naming_the_setting()
    {
        using var host = Host("config/scoring-model.json", ("Scoring:VisitorHistoryDays", "0"), ("Scoring:MaxPendingVisitorEvents", "100000"), ("Scoring:MaxLinkedVisitors", "-1"));

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(error.Failures, f => f.Contains("Scoring:VisitorHistoryDays", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("Scoring:MaxPendingVisitorEvents", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("Scoring:MaxLinkedVisitors", StringComparison.Ordinal));
    }

    public void Dispose() => File.Delete(_modelPath);

    private static IHost Host(string modelPath, params (string Key, string Value)[] settings)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration["Scoring:ModelPath"] = modelPath;
        builder.Configuration[TestLeadIds.Setting] = TestLeadIds.Key;
        foreach (var (key, value) in settings)
            builder.Configuration[key] = value;
        builder.Services.AddLeadScoring();
        return builder.Build();
    }
}
