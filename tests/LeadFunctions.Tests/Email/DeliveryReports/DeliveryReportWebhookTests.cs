using System.Net;
using Azure.Data.Tables;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Email;
using LeadFunctions.Infrastructure.Email.DeliveryReports;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Tests.Hosting;
using LeadFunctions.Tests.Nurture;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static LeadFunctions.Tests.Email.DeliveryReports.DeliveryReportPayloads;

namespace LeadFunctions.Tests.Email.DeliveryReports;

/// <summary>
/// <c>/api/email/delivery-reports</c> over HTTP on the local host, storage in Azurite, bodies shaped like the documented
/// Event Grid and ACS events.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class DeliveryReportWebhookTests(AzuriteFixture azurite)
{
    private const string Secret = "test-webhook-secret-0123456789abcdefghijklmnop";
    private const string Path = "/api/" + DeliveryReportEndpoint.Route;
    private static readonly Uri WithSecret = new($"{Path}?secret={Secret}", UriKind.Relative);

    [Fact]
    public async Task Event_grid_subscription_validation_is_answered_with_the_validation_code()
    {
        // Arrange
        await using var host = await StartHostAsync(AzuriteFixture.UniqueName("state"));
        var code = Guid.NewGuid().ToString("D").ToUpperInvariant();

        // Act
        using var response = await host.Client.PostAsync(WithSecret, Body(Validation(code)));

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = await JsonAsync(response);
        Assert.Equal(code, json.RootElement.GetProperty("validationResponse").GetString());
    }

    [Fact]
    public async Task The_cloudevents_options_handshake_is_allowed_for_the_origin_event_grid_names()
    {
        // Arrange
        await using var host = await StartHostAsync(AzuriteFixture.UniqueName("state"));
        using var request = new HttpRequestMessage(HttpMethod.Options, WithSecret);
        request.Headers.Add("WebHook-Request-Origin", "eventgrid.azure.net");

        // Act
        using var response = await host.Client.SendAsync(request);

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("eventgrid.azure.net", Assert.Single(response.Headers.GetValues("WebHook-Allowed-Origin")));
    }

    [Fact]
    public async Task A_bounced_report_suppresses_the_lead_and_its_next_nurture_step_is_dropped()
    {
        // Arrange: step one of the programme sent (folder sender, the same message id ACS would be given).
        await using var harness = new NurtureHarness(azurite);
        var email = AzuriteFixture.UniqueName("bounce") + "@example.com";
        var lead = NurtureLeads.New(email, harness.Time.GetUtcNow());
        harness.Leads.Put(lead);
        await harness.MoveAsync(lead, LifecycleStage.Mql);
        Assert.Equal(1, (await harness.RunAsync()).Sent);
        var options = harness.Services.GetRequiredService<IOptions<NurtureOptions>>().Value;
        await using var host = await StartHostAsync(options.StateTable, options.DueTable);
        var state = azurite.TableService().GetTableClient(options.StateTable);
        var sent = await SentOutboxAsync(state, lead.LeadId);

        // Act: ACS reports a hard bounce of that message (the recipient spelled as the mail system returns it).
        using var response = await host.Client.PostAsync(WithSecret,
            Body(Report(Guid.NewGuid().ToString("D"), MessageIdentity.RequestId(sent.MessageId), email.ToUpperInvariant(), "Bounced", "550 5.1.1 mailbox unavailable")));
        harness.Time.Advance(TimeSpan.FromDays(2));
        var next = await harness.RunAsync();

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var suppression = await state.GetEntityAsync<TableEntity>(lead.LeadId, "suppression");
        Assert.Equal("delivery-report:Bounced", suppression.Value.GetString("Source"));
        Assert.Equal(1, next.Dropped);
        Assert.Equal(0, next.Sent);
        Assert.Single(harness.EmlFiles());
        var counts = await CountsAsync(state, lead.LeadId, sent.MessageId);
        Assert.Equal(1, counts.Bounced);
        Assert.Equal(sent.RowKey, counts.OutboxRow);
    }

    [Fact]
    public async Task A_report_event_delivered_twice_is_counted_once_and_another_report_of_the_message_counts_too()
    {
        // Arrange
        var stateTable = AzuriteFixture.UniqueName("state");
        await using var host = await StartHostAsync(stateTable);
        var state = azurite.TableService().GetTableClient(stateTable);
        var (email, leadId, messageId) = await SeedSentMessageAsync(state);
        var acsId = MessageIdentity.RequestId(messageId);
        var expanded = Report(Guid.NewGuid().ToString("D"), acsId, email, "Expanded");
        var delivered = Report(Guid.NewGuid().ToString("D"), acsId, email, "Delivered");

        // Act: Event Grid redelivers the Delivered event, once alone and once in a batch with the earlier one.
        using var first = await host.Client.PostAsync(WithSecret, Body(delivered));
        using var again = await host.Client.PostAsync(WithSecret, Body(delivered));
        using var batch = await host.Client.PostAsync(WithSecret, Body(expanded, delivered));

        // Assert
        Assert.All(new[] { first, again, batch }, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var counts = await CountsAsync(state, leadId, messageId);
        Assert.Equal(1, counts.Delivered);
        Assert.Equal(1, counts.Expanded);
        Assert.Equal(0, counts.Bounced);
        using var batchJson = await JsonAsync(batch);
        Assert.Equal(1, batchJson.RootElement.GetProperty("counted").GetInt32());
        Assert.Equal(1, batchJson.RootElement.GetProperty("duplicates").GetInt32());
        Assert.False((await state.GetEntityIfExistsAsync<TableEntity>(leadId, "suppression")).HasValue);
    }

    [Theory]
    [InlineData("")]
    [InlineData("?secret=")]
    [InlineData("?secret=wrong-secret-0123456789abcdefghijklmnopq")]
    [InlineData("?secret=" + Secret + "&secret=" + Secret)]
    [InlineData("?code=" + Secret)]
    public async Task A_post_without_the_shared_secret_is_refused_and_changes_nothing(string query)
    {
        // Arrange
        var stateTable = AzuriteFixture.UniqueName("state");
        await using var host = await StartHostAsync(stateTable);
        var state = azurite.TableService().GetTableClient(stateTable);
        var (email, leadId, messageId) = await SeedSentMessageAsync(state);

        // Act
        using var response = await host.Client.PostAsync(new Uri(Path + query, UriKind.Relative),
            Body(Report(Guid.NewGuid().ToString("D"), MessageIdentity.RequestId(messageId), email, "Bounced")));

        // Assert
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.False((await state.GetEntityIfExistsAsync<TableEntity>(leadId, "suppression")).HasValue);
        Assert.False((await state.GetEntityIfExistsAsync<TableEntity>(leadId, DeliveryCountsEntity.RowFor(MessageIdentity.RequestId(messageId)))).HasValue);
    }

    [Fact]
    public async Task A_forged_report_for_an_address_or_message_we_never_sent_suppresses_nobody()
    {
        // Arrange: one real sent message; reports name a stranger, or the real address with a message id that is not ours.
        var stateTable = AzuriteFixture.UniqueName("state");
        await using var host = await StartHostAsync(stateTable);
        var state = azurite.TableService().GetTableClient(stateTable);
        var (email, leadId, messageId) = await SeedSentMessageAsync(state);
        var stranger = AzuriteFixture.UniqueName("stranger") + "@example.com";

        // Act
        using var response = await host.Client.PostAsync(WithSecret, Body(
            Report(Guid.NewGuid().ToString("D"), MessageIdentity.RequestId(messageId), stranger, "Bounced"),
            Report(Guid.NewGuid().ToString("D"), Guid.NewGuid(), email, "Bounced"),
            Report(Guid.NewGuid().ToString("D"), MessageIdentity.RequestId(messageId) , "not an address", "Bounced")));

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = await JsonAsync(response);
        Assert.Equal(3, json.RootElement.GetProperty("ignored").GetInt32());
        Assert.False((await state.GetEntityIfExistsAsync<TableEntity>(leadId, "suppression")).HasValue);
        Assert.False((await state.GetEntityIfExistsAsync<TableEntity>(TestLeadIds.LeadIdFor(stranger), "suppression")).HasValue);
    }

    [Theory]
    [InlineData("{not json", "body")]
    [InlineData("\"a string\"", "body")]
    [InlineData("[42]", "[0]")]
    [InlineData("""[{"id":"e1","eventType":"Microsoft.Communication.EmailDeliveryReportReceived","data":{"messageId":"00000000-0000-0000-0000-000000000001","recipient":"a@example.com"}}]""", "[0].data.status")]
    [InlineData("""[{"id":"e1","eventType":"Microsoft.Communication.EmailDeliveryReportReceived","data":{"messageId":7,"recipient":"a@example.com","status":"Bounced"}}]""", "[0].data.messageId")]
    [InlineData("""[{"eventType":"Microsoft.Communication.EmailDeliveryReportReceived","data":{}}]""", "[0].id")]
    [InlineData("""[{"id":"v","eventType":"Microsoft.EventGrid.SubscriptionValidationEvent","data":{}}]""", "[0].data.validationCode")]
    public async Task A_malformed_body_is_a_400_problem_naming_the_field_never_a_5xx(string body, string field)
    {
        // Arrange
        await using var host = await StartHostAsync(AzuriteFixture.UniqueName("state"));

        // Act
        using var response = await host.Client.PostAsync(WithSecret, Raw(body));

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = await JsonAsync(response);
        Assert.Equal(400, json.RootElement.GetProperty("status").GetInt32());
        Assert.True(json.RootElement.GetProperty("errors").TryGetProperty(field, out _), $"the problem does not name {field}");
    }

    [Fact]
    public async Task With_no_secret_configured_the_webhook_is_off_and_answers_404()
    {
        // Arrange
        await using var host = await RunningLocalHost.StartAsync(azurite, triggers: false, new Dictionary<string, string?>
        {
            ["Nurture:StateTable"] = AzuriteFixture.UniqueName("state"),
            ["DeliveryReports:WebhookSecret"] = "",
        });

        // Act
        using var response = await host.Client.PostAsync(WithSecret, Body(Validation("code")));

        // Assert
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private Task<RunningLocalHost> StartHostAsync(string stateTable, string? dueTable = null) =>
        RunningLocalHost.StartAsync(azurite, triggers: false, new Dictionary<string, string?>
        {
            ["Nurture:StateTable"] = stateTable,
            ["Nurture:DueTable"] = dueTable ?? AzuriteFixture.UniqueName("due"),
            ["DeliveryReports:WebhookSecret"] = Secret,
        });

    /// <summary>An outbox record of a nurture e-mail the timer sent, as <c>NurtureRunner</c> writes it.</summary>
    private static async Task<(string Email, string LeadId, string MessageId)> SeedSentMessageAsync(TableClient state)
    {
        await state.CreateIfNotExistsAsync();
        var email = AzuriteFixture.UniqueName("reader") + "@example.com";
        var leadId = TestLeadIds.LeadIdFor(email);
        var messageId = $"{leadId}-nurture-welcome-first";
        await state.AddEntityAsync(new OutboxEntity
        {
            PartitionKey = leadId,
            RowKey = OutboxEntity.NurturePrefix + "welcome-first",
            Kind = "nurture",
            Status = "sent",
            MessageId = messageId,
            Marketing = true,
            SentAt = DateTimeOffset.UtcNow,
        });
        return (email, leadId, messageId);
    }

    private static async Task<OutboxEntity> SentOutboxAsync(TableClient state, string leadId)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {leadId} and RowKey ge {OutboxEntity.Prefix} and RowKey lt {"outbox."}");
        var rows = new List<OutboxEntity>();
        await foreach (var row in state.QueryAsync<OutboxEntity>(filter))
            rows.Add(row);
        return Assert.Single(rows);
    }

    private static async Task<DeliveryCountsEntity> CountsAsync(TableClient state, string leadId, string messageId) =>
        (await state.GetEntityAsync<DeliveryCountsEntity>(leadId, DeliveryCountsEntity.RowFor(MessageIdentity.RequestId(messageId)))).Value;
}
