using System.Net;
using System.Text.Json;
using Azure.Storage.Queues;
using LeadFunctions.Domain.Events;
using LeadFunctions.Infrastructure.Storage;
using LeadFunctions.LocalHost.Configuration;
using LeadFunctions.Tests.Support;
using Microsoft.Azure.WebJobs.Host;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Tests.Hosting;

/// <summary>The local host over real HTTP on 127.0.0.1, against Azurite: what <c>./run.sh</c> gives a person.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class LocalHostTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task The_sample_landing_page_is_served_at_the_root()
    {
        // Arrange
        await using var host = await RunningLocalHost.StartAsync(azurite, triggers: false);

        // Act
        using var response = await host.Client.GetAsync(new Uri("/", UriKind.Relative));

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("/api/forms/", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_sample_form_posted_through_the_local_host_redirects_to_its_thank_you_page_and_queues_exactly_one_event()
    {
        // Arrange: the landing page's own form, as a browser would post it.
        await using var host = await RunningLocalHost.StartAsync(azurite, triggers: false);
        var queue = new QueueClient(azurite.ConnectionString, StorageOptions.LeadEventsQueue, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        await queue.CreateIfNotExistsAsync();
        await queue.ClearMessagesAsync();
        var email = AzuriteFixture.UniqueName("visitor") + "@example.com";
        var page = await host.Client.GetStringAsync(new Uri("/", UriKind.Relative));
        var form = SampleForm.FromLandingPage(page, email);
        var formId = form.Action.TrimEnd('/').Split('/')[^1];
        var definition = FormDefinition(formId);

        // Act
        using var response = await host.Client.PostAsync(new Uri(new Uri(form.Action, UriKind.RelativeOrAbsolute).IsAbsoluteUri ? new Uri(form.Action).PathAndQuery : form.Action, UriKind.Relative), new FormUrlEncodedContent(form.Fields));

        // Assert: a browser is sent to the form's thank-you page ...
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal(definition.GetProperty("thankYouUrl").GetString(), response.Headers.Location?.OriginalString);

        // ... and exactly one event with what was submitted is on lead-events.
        var events = (await queue.PeekMessagesAsync(maxMessages: 32)).Value
            .Select(m => LeadEventJson.Deserialize(m.Body.ToString()))
            .Where(e => e.Email == email)
            .ToArray();
        var leadEvent = Assert.Single(events);
        Assert.Equal(LeadEventTypes.FormSubmission, leadEvent.Type);
        Assert.Equal(formId, leadEvent.FormId);
        foreach (var field in definition.GetProperty("fields").EnumerateArray())
        {
            if (field.TryGetProperty("profileField", out var profileField) && form.Value(field.GetProperty("name").GetString()!) is { Length: > 0 } submitted)
                Assert.Equal(submitted, leadEvent.Profile[profileField.GetString()!]);
        }
        if (definition.TryGetProperty("consent", out var consent) && form.Value(consent.GetProperty("field").GetString()!) is not null)
            Assert.Contains(leadEvent.Consents, c => c.Purpose == consent.GetProperty("purpose").GetString());
    }

    [Fact]
    public async Task The_queue_listener_uses_the_batch_size_retries_and_polling_of_host_json()
    {
        // Arrange
        using var hostJson = JsonDocument.Parse(await File.ReadAllTextAsync(HostJson.DefaultPath));
        var queues = hostJson.RootElement.GetProperty("extensions").GetProperty("queues");

        // Act
        await using var host = await RunningLocalHost.StartAsync(azurite, triggers: false);
        var options = host.Services.GetRequiredService<IOptions<QueuesOptions>>().Value;

        // Assert
        Assert.Equal(queues.GetProperty("batchSize").GetInt32(), options.BatchSize);
        Assert.Equal(queues.GetProperty("newBatchThreshold").GetInt32(), options.NewBatchThreshold);
        Assert.Equal(queues.GetProperty("maxDequeueCount").GetInt32(), options.MaxDequeueCount);
        Assert.Equal(TimeSpan.Parse(queues.GetProperty("visibilityTimeout").GetString()!, System.Globalization.CultureInfo.InvariantCulture), options.VisibilityTimeout);
        Assert.Equal(TimeSpan.Parse(queues.GetProperty("maxPollingInterval").GetString()!, System.Globalization.CultureInfo.InvariantCulture), options.MaxPollingInterval);
        Assert.Equal(QueueMessageEncoding.Base64, options.MessageEncoding);
    }

    [Fact]
    public async Task A_function_level_endpoint_answers_without_a_key_but_refuses_a_wrong_one()
    {
        // Arrange
        await using var host = await RunningLocalHost.StartAsync(azurite, triggers: false, new Dictionary<string, string?>
        {
            ["LocalHost:FunctionKey"] = "the-local-key",
        });
        var lead = new Uri("/api/leads/" + TestLeadIds.LeadIdFor("nobody@example.com") + "/export", UriKind.Relative);

        // Act
        using var withoutKey = await host.Client.GetAsync(lead);
        using var withKey = await host.Client.GetAsync(new Uri(lead + "?code=the-local-key", UriKind.Relative));
        using var wrongKey = await host.Client.GetAsync(new Uri(lead + "?code=guess", UriKind.Relative));

        // Assert: the function itself answers (an unknown lead) unless the key is wrong.
        Assert.Equal(HttpStatusCode.NotFound, withoutKey.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, withKey.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
    }

    [Fact]
    public async Task The_nurture_preview_needs_the_admin_key_and_renders_a_shipped_step_with_it()
    {
        // Arrange: keys required, as under the Functions host in Azure.
        await using var host = await RunningLocalHost.StartAsync(azurite, triggers: false, new Dictionary<string, string?>
        {
            ["LocalHost:FunctionKey"] = "the-local-key",
            ["LocalHost:RequireFunctionKey"] = "true",
        });
        var preview = new Uri("/api/ops/nurture/preview", UriKind.Relative);
        using var body = new StringContent("""{ "programme": "mql-welcome", "step": "welcome" }""", System.Text.Encoding.UTF8, "application/json");

        // Act
        using var withoutKey = await host.Client.PostAsync(preview, body);
        using var withKey = await host.Client.PostAsync(new Uri(preview + "?code=the-local-key", UriKind.Relative), body);

        // Assert
        Assert.Equal(HttpStatusCode.Unauthorized, withoutKey.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withKey.StatusCode);
        using var json = JsonDocument.Parse(await withKey.Content.ReadAsStringAsync());
        Assert.Equal("Ada, a guide picked for you", json.RootElement.GetProperty("subject").GetString());
        Assert.Contains(json.RootElement.GetProperty("links").EnumerateArray(), l => l.GetProperty("kind").GetString() == "click");
    }

    private static JsonElement FormDefinition(string formId)
    {
        using var forms = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "config", "forms.json")));
        return forms.RootElement.GetProperty("forms").EnumerateArray().Single(f => f.GetProperty("id").GetString() == formId).Clone();
    }
}
