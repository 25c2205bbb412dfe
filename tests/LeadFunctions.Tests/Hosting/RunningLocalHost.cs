using LeadFunctions.LocalHost;
using LeadFunctions.Tests.Support;
using Microsoft.AspNetCore.Builder;

namespace LeadFunctions.Tests.Hosting;

/// <summary>The local host started in-process on a free 127.0.0.1 port against the test Azurite; stopped on dispose.</summary>
public sealed class RunningLocalHost : IAsyncDisposable
{
    private readonly string _scratch;

    private RunningLocalHost(WebApplication app, string scratch)
    {
        App = app;
        _scratch = scratch;
        Client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = app.BaseAddress() };
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public IServiceProvider Services => App.Services;

    /// <param name="triggers">Whether the WebJobs queue and timer listeners run (off to inspect what lands on a queue).</param>
    public static Task<RunningLocalHost> StartAsync(AzuriteFixture azurite, bool triggers, IDictionary<string, string?>? settings = null) =>
        StartAsync(azurite.ConnectionString, triggers, settings);

    /// <param name="storageConnectionString">The Azurite to use, e.g. a <see cref="RestartableAzurite"/> of the test's own.</param>
    /// <param name="triggers">Whether the WebJobs queue and timer listeners run.</param>
    /// <param name="settings">Extra configuration, overriding the defaults below.</param>
    public static async Task<RunningLocalHost> StartAsync(string storageConnectionString, bool triggers, IDictionary<string, string?>? settings = null)
    {
        var scratch = Path.Combine(Path.GetTempPath(), "leadfunctions-localhost-" + Guid.NewGuid().ToString("N"));
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["PORT"] = "0",
            ["LeadStorage"] = storageConnectionString,
            ["AzureWebJobsStorage"] = storageConnectionString,
            [LocalHostApp.DisableTriggersSetting] = triggers ? "false" : "true",
            [LocalHostApp.TimerStatusFolderSetting] = Path.Combine(scratch, "timers"),
            ["Email:Sender"] = "Folder",
            ["Email:Folder:Path"] = Path.Combine(scratch, "outbox"),
            // Once a year: the nurture timer must not fire in the middle of a test.
            ["NurtureSchedule"] = "0 0 0 1 1 *",
            ["RetentionSchedule"] = "0 0 0 1 1 *",
            ["WebhookSchedule"] = "0 0 0 1 1 *",
            ["ScoringRescoreSchedule"] = "0 0 0 1 1 *",
            // The key tests derive lead ids with (TestLeadIds), in place of the sample key.
            [TestLeadIds.Setting] = TestLeadIds.Key,
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
            overrides[key] = value;

        var app = LocalHostApp.Build([], overrides);
        await app.StartAsync();
        return new RunningLocalHost(app, scratch);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        ScratchFolder.Delete(_scratch);
    }
}
