using System.Net;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Storage;
using LeadFunctions.LocalHost.Configuration;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace LeadFunctions.Tests.Hosting;

/// <summary>The WebJobs queue listener of the local host runs RescoreLead on what the capture endpoint queued.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class LocalHostQueueTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_demo_request_posted_to_the_local_host_is_rescored_by_the_queue_listener_into_a_sales_qualified_lead()
    {
        // Arrange
        await using var host = await RunningLocalHost.StartAsync(azurite, triggers: true, new Dictionary<string, string?>
        {
            ["Storage:LeadsTable"] = AzuriteFixture.UniqueName("leads"),
        });
        var email = AzuriteFixture.UniqueName("buyer") + "@example.com";
        var form = SampleForm.FromLandingPage(await host.Client.GetStringAsync(new Uri("/", UriKind.Relative)), email);
        var directory = host.Services.GetRequiredService<ILeadDirectory>();
        var leadId = TestLeadIds.LeadIdFor(email);

        // Act
        using var response = await host.Client.PostAsync(new Uri(form.Action, UriKind.Relative), new FormUrlEncodedContent(form.Fields));
        var details = await EventuallyAsync(() => directory.FindAsync(leadId, CancellationToken.None));

        // Assert
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.NotNull(details);
        Assert.Equal(email, details.Lead.Email);
        Assert.Equal(form.Value("company"), details.Lead.Profile["company"]);
        Assert.Equal(LifecycleStage.Sql, details.Lead.Stage);
    }

    [Fact]
    public async Task A_message_the_function_keeps_failing_on_is_moved_to_the_poison_queue_after_host_json_retries()
    {
        // Arrange: no waiting between deliveries, so five attempts happen quickly; the retry count stays host.json's.
        await using var host = await RunningLocalHost.StartAsync(azurite, triggers: true, new Dictionary<string, string?>
        {
            ["Storage:LeadsTable"] = AzuriteFixture.UniqueName("leads"),
            [HostJson.OverrideSection + ":visibilityTimeout"] = "00:00:00",
            [HostJson.OverrideSection + ":maxPollingInterval"] = "100",
        });
        var queue = azurite.Queue(StorageOptions.LeadEventsQueue);
        var poison = azurite.Queue(StorageOptions.LeadEventsQueue + "-poison");
        await poison.CreateIfNotExistsAsync();
        var body = "not a lead event " + Guid.NewGuid().ToString("N");

        // Act
        await queue.SendMessageAsync(body);
        var poisoned = await EventuallyAsync(async () =>
            (await poison.PeekMessagesAsync(maxMessages: 32)).Value.FirstOrDefault(m => m.Body.ToString() == body));

        // Assert
        Assert.NotNull(poisoned);
        Assert.DoesNotContain((await queue.PeekMessagesAsync(maxMessages: 32)).Value, m => m.Body.ToString() == body);
    }

    /// <summary>Polls until the listener has done its work; the bound only stops a broken run from hanging, it asserts nothing about speed.</summary>
    private static async Task<T?> EventuallyAsync<T>(Func<Task<T?>> probe) where T : class
    {
        var deadline = DateTimeOffset.UtcNow.AddMinutes(2);
        while (true)
        {
            var value = await probe();
            if (value is not null || DateTimeOffset.UtcNow > deadline)
                return value;
            await Task.Delay(TimeSpan.FromMilliseconds(250));
        }
    }
}
