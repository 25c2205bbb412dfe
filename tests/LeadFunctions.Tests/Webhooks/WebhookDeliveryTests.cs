using System.Text;
using System.Text.Json;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Webhooks;
using LeadFunctions.Infrastructure.Privacy;
using LeadFunctions.Infrastructure.Webhooks;
using LeadFunctions.Tests.Support;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace LeadFunctions.Tests.Webhooks;

/// <summary>
/// Outgoing webhooks end to end: a lead event through the real processor in Azurite, the delivery timer's runner, and a real
/// HTTP receiver on 127.0.0.1. Time is a <see cref="Microsoft.Extensions.Time.Testing.FakeTimeProvider"/>; back-off is crossed by
/// moving it past the cap, never by waiting.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class WebhookDeliveryTests(AzuriteFixture azurite)
{
    private static readonly string[] Both = [WebhookEventTypes.StageChanged, WebhookEventTypes.SqlAlert];
    private static readonly string[] SqlAlerts = [WebhookEventTypes.SqlAlert];

    [Fact]
    public async Task A_stage_change_through_the_processor_is_posted_signed_over_the_exact_body_with_the_subscriptions_secret()
    {
        // Arrange
        await using var harness = await WebhookHarness.StartAsync(azurite, [new("crm", "/crm", Both)]);
        var leadId = await harness.DemoRequestAsync("signed.post@example.com");

        // Act
        var run = await harness.RunAsync();

        // Assert: a stage-changed and an sql-alert, each signed, each verifying with the secret over the bytes received.
        var received = harness.Receiver.At("/crm");
        Assert.Equal(run.Delivered, received.Count);
        var alert = Assert.Single(received, r => r.Header("X-LeadFunctions-Event-Type") == WebhookEventTypes.SqlAlert);
        Assert.Contains(received, r => r.Header("X-LeadFunctions-Event-Type") == WebhookEventTypes.StageChanged);
        foreach (var request in received)
        {
            var problem = WebhookSignature.Verify(request.Header(WebhookSignature.HeaderName), request.Body,
                [Encoding.UTF8.GetBytes(harness.Secrets["crm"])], harness.Time.GetUtcNow(), WebhookSignature.DefaultTolerance);
            Assert.Null(problem);
            Assert.StartsWith("application/json", request.Header("Content-Type"), StringComparison.Ordinal);
        }
        var wrongSecret = WebhookSignature.Verify(alert.Header(WebhookSignature.HeaderName), alert.Body,
            [Encoding.UTF8.GetBytes("another-secret-entirely-0000000000000000")], harness.Time.GetUtcNow(), WebhookSignature.DefaultTolerance);
        Assert.NotNull(wrongSecret);

        using var body = JsonDocument.Parse(alert.Body);
        var root = body.RootElement;
        Assert.Equal(alert.Header("X-LeadFunctions-Event-Id"), root.GetProperty("id").GetString());
        Assert.Equal("sql-alert", root.GetProperty("type").GetString());
        var data = root.GetProperty("data");
        Assert.Equal(leadId, data.GetProperty("leadId").GetString());
        Assert.Equal("SQL", data.GetProperty("toStage").GetString());
        Assert.True(data.TryGetProperty("slaDueAt", out _));
        Assert.True(data.GetProperty("score").TryGetProperty("fitGrade", out _));
        // No profile unless the subscription asks for it: no address, no name.
        Assert.False(data.TryGetProperty("profile", out _));
        Assert.DoesNotContain("signed.post@example.com", Encoding.UTF8.GetString(alert.Body), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Dora", Encoding.UTF8.GetString(alert.Body), StringComparison.Ordinal);

        // A later run sends nothing again.
        harness.AdvancePastBackOff();
        await harness.RunAsync();
        Assert.Equal(received.Count, harness.Receiver.At("/crm").Count);
    }

    [Fact]
    public async Task A_subscription_that_asks_for_the_profile_gets_it_in_the_payload()
    {
        await using var harness = await WebhookHarness.StartAsync(azurite, [new("crm", "/crm", SqlAlerts, IncludeProfile: true)]);
        await harness.DemoRequestAsync("with.profile@example.com");

        await harness.RunAsync();

        using var body = JsonDocument.Parse(Assert.Single(harness.Receiver.At("/crm")).Body);
        Assert.Equal("Dora", body.RootElement.GetProperty("data").GetProperty("profile").GetProperty("firstName").GetString());
    }

    [Fact]
    public async Task A_receiver_failing_with_500_twice_then_200_gets_exactly_one_successful_delivery_after_back_off()
    {
        // Arrange
        await using var harness = await WebhookHarness.StartAsync(azurite, [new("crm", "/crm", SqlAlerts)]);
        harness.Receiver.Answer("/crm", 500);
        harness.Receiver.Answer("/crm", 500);
        await harness.DemoRequestAsync("flaky.receiver@example.com");

        // Act 1: the first attempt fails; a run straight after waits for the back-off instead of trying again.
        await harness.RunAsync();
        await harness.RunAsync();
        Assert.Single(harness.Receiver.At("/crm"));

        // Act 2: after the back-off, the second fails, and after the next the third succeeds.
        harness.AdvancePastBackOff();
        await harness.RunAsync();
        harness.AdvancePastBackOff();
        var last = await harness.RunAsync();
        harness.AdvancePastBackOff();
        await harness.RunAsync();

        // Assert: three attempts of the same event (same id, same bytes), one 200, nothing after it.
        var received = harness.Receiver.At("/crm");
        Assert.Equal([500, 500, 200], received.Select(r => r.AnsweredWith));
        Assert.Single(received.Select(r => r.Header("X-LeadFunctions-Event-Id")).Distinct());
        Assert.All(received, r => Assert.Equal(received[0].Body, r.Body));
        Assert.Equal(1, last.Delivered);
        Assert.Equal(0, (await harness.ListAsync("pending")).RootElement.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task After_max_attempts_the_delivery_is_dead_with_its_reason_and_listed_and_retry_replays_it()
    {
        // Arrange
        await using var harness = await WebhookHarness.StartAsync(azurite, [new("crm", "/crm", SqlAlerts)],
            new Dictionary<string, string?> { ["Webhooks:MaxAttempts"] = "3" });
        harness.Receiver.AlwaysAnswer("/crm", 503);
        var leadId = await harness.DemoRequestAsync("dead.letter@example.com");

        // Act: three failed attempts.
        for (var i = 0; i < 3; i++)
        {
            await harness.RunAsync();
            harness.AdvancePastBackOff();
        }
        await harness.RunAsync();

        // Assert: dead, listed with its status and reason, and not tried a fourth time.
        Assert.Equal(3, harness.Receiver.At("/crm").Count);
        using (var dead = await harness.ListAsync("dead"))
        {
            var item = Assert.Single(dead.RootElement.GetProperty("items").EnumerateArray());
            Assert.Equal(leadId, item.GetProperty("leadId").GetString());
            Assert.Equal("crm", item.GetProperty("subscription").GetString());
            Assert.Equal("dead", item.GetProperty("status").GetString());
            Assert.Equal(503, item.GetProperty("lastStatus").GetInt32());
            Assert.Equal(3, item.GetProperty("attempts").GetInt32());
            Assert.Contains("3 attempts failed", item.GetProperty("reason").GetString(), StringComparison.Ordinal);
            Assert.Contains("HTTP 503", item.GetProperty("reason").GetString(), StringComparison.Ordinal);
        }

        // Act 2: the receiver is fixed, the operator replays it.
        harness.Receiver.AlwaysAnswer("/crm", 204);
        var id = (await harness.ListAsync("dead")).RootElement.GetProperty("items")[0].GetProperty("id").GetString()!;
        var retried = Assert.IsType<OkObjectResult>(await harness.RetryAsync($$"""{"ids": ["{{id}}", "whd_unknown"]}"""));
        var result = Assert.IsType<WebhookRetryResult>(retried.Value);
        await harness.RunAsync();

        // Assert 2: delivered once more with the same event id, and the dead list is empty.
        Assert.Equal(1, result.Requeued);
        Assert.Equal(["whd_unknown"], result.NotFound);
        var received = harness.Receiver.At("/crm");
        Assert.Equal(204, received[^1].AnsweredWith);
        Assert.Equal(received[0].Header("X-LeadFunctions-Event-Id"), received[^1].Header("X-LeadFunctions-Event-Id"));
        Assert.Equal(0, (await harness.ListAsync("dead")).RootElement.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task A_4xx_refusal_dead_letters_at_once_and_retry_all_replays_every_dead_delivery()
    {
        await using var harness = await WebhookHarness.StartAsync(azurite, [new("crm", "/crm", SqlAlerts)]);
        harness.Receiver.Answer("/crm", 400);
        harness.Receiver.Answer("/crm", 422);
        await harness.DemoRequestAsync("refused.one@example.com");
        await harness.DemoRequestAsync("refused.two@example.com");

        await harness.RunAsync();

        using (var dead = await harness.ListAsync("dead"))
        {
            var items = dead.RootElement.GetProperty("items").EnumerateArray().ToList();
            Assert.Equal(2, items.Count);
            Assert.All(items, i => Assert.Equal(1, i.GetProperty("attempts").GetInt32()));
            Assert.All(items, i => Assert.Contains("refused", i.GetProperty("reason").GetString(), StringComparison.Ordinal));
        }

        var result = Assert.IsType<WebhookRetryResult>(Assert.IsType<OkObjectResult>(await harness.RetryAsync("""{"all": true}""")).Value);
        await harness.RunAsync();

        Assert.Equal(2, result.Requeued);
        Assert.Equal(2, harness.Receiver.At("/crm").Count(r => r.AnsweredWith == 200));
    }

    [Fact]
    public async Task A_hanging_receiver_does_not_delay_another_subscriptions_deliveries()
    {
        // Arrange: one receiver never answers (the client times out), the other is fine; three SQLs for both.
        await using var harness = await WebhookHarness.StartAsync(azurite, [new("broken", "/broken", SqlAlerts), new("healthy", "/healthy", SqlAlerts)],
            new Dictionary<string, string?> { ["Webhooks:TimeoutSeconds"] = "1", ["Webhooks:MaxConcurrency"] = "1" });
        harness.Receiver.AlwaysHang("/broken");
        for (var i = 0; i < 3; i++)
            await harness.DemoRequestAsync($"both.{i}@example.com");

        // Act: one run, even one subscription at a time.
        var run = await harness.RunAsync();

        // Assert: the healthy receiver got all three; the broken one cost one attempt, and its other deliveries wait with no attempt counted.
        Assert.Equal(3, harness.Receiver.At("/healthy").Count);
        Assert.Equal(3, run.Delivered);
        Assert.Equal(1, run.Retried);
        using var pending = await harness.ListAsync("pending");
        var items = pending.RootElement.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(3, items.Count);
        Assert.All(items, i => Assert.Equal("broken", i.GetProperty("subscription").GetString()));
        Assert.Equal([0, 0, 1], items.Select(i => i.GetProperty("attempts").GetInt32()).Order());
        Assert.Contains(items, i => i.GetProperty("reason").GetString()?.Contains("no answer within 1 s", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task A_redirect_is_not_followed_and_dead_letters_the_delivery_with_the_reason()
    {
        await using var harness = await WebhookHarness.StartAsync(azurite, [new("crm", "/moved", SqlAlerts)]);
        harness.Receiver.Answer("/moved", 301, ("Location", harness.Receiver.Url("/elsewhere").ToString()));
        await harness.DemoRequestAsync("redirected@example.com");

        await harness.RunAsync();

        Assert.Single(harness.Receiver.At("/moved"));
        Assert.Empty(harness.Receiver.At("/elsewhere"));
        using var dead = await harness.ListAsync("dead");
        var reason = Assert.Single(dead.RootElement.GetProperty("items").EnumerateArray()).GetProperty("reason").GetString();
        Assert.Contains("HTTP 301 redirect", reason, StringComparison.Ordinal);
        Assert.Contains("not followed", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Erasing_the_lead_removes_its_pending_deliveries_and_nothing_is_posted_after()
    {
        // Arrange: the receiver is down, so the delivery waits for a retry.
        await using var harness = await WebhookHarness.StartAsync(azurite, [new("crm", "/crm", Both)]);
        harness.Receiver.AlwaysAnswer("/crm", 500);
        var leadId = await harness.DemoRequestAsync("erase.me@example.com");
        await harness.RunAsync();
        Assert.NotEmpty(await harness.RowsOfAsync(leadId));
        var attempts = harness.Receiver.At("/crm").Count;

        // Act
        await harness.Services.GetRequiredService<ILeadEraser>().EraseAsync(leadId, CancellationToken.None);
        harness.Receiver.AlwaysAnswer("/crm", 200);
        harness.AdvancePastBackOff();
        await harness.RunAsync();

        // Assert
        Assert.Empty(await harness.RowsOfAsync(leadId));
        Assert.Equal(0, (await harness.ListAsync("pending")).RootElement.GetProperty("items").GetArrayLength());
        Assert.Equal(attempts, harness.Receiver.At("/crm").Count);
    }

    [Fact]
    public async Task A_retried_commit_writes_the_same_delivery_rows_and_a_change_never_committed_is_dropped()
    {
        // Arrange
        await using var harness = await WebhookHarness.StartAsync(azurite, [new("crm", "/crm", Both)]);
        var observer = harness.Services.GetServices<IStageChangeObserver>().OfType<WebhookStageObserver>().Single();
        var lead = new LeadSummary { LeadId = TestLeadIds.LeadIdFor("never.committed@example.com"), Email = "never.committed@example.com", Stage = LifecycleStage.Sql, StageChangedAt = harness.Time.GetUtcNow() };
        var change = new StageChange(harness.Time.GetUtcNow(), LifecycleStage.Mql, LifecycleStage.Sql, "test", "test", "it-1", "e-1");

        // Act 1: the processor tells the observer twice (its commit failed and was retried), but never commits.
        await observer.OnStageChangingAsync(lead, change, CancellationToken.None);
        var first = (await harness.RowsOfAsync(lead.LeadId)).Select(r => (r.PartitionKey, r.RowKey)).Order().ToList();
        await observer.OnStageChangingAsync(lead, change, CancellationToken.None);

        // Assert 1: the same rows (a record and a due row per event), no more.
        Assert.Equal(first, (await harness.RowsOfAsync(lead.LeadId)).Select(r => (r.PartitionKey, r.RowKey)).Order());
        Assert.Equal(4, first.Count);

        // Act 2: it waits for the commit, then is dropped once the grace is over.
        var waiting = await harness.RunAsync();
        harness.Time.Advance(TimeSpan.FromHours(1));
        var dropped = await harness.RunAsync();

        // Assert 2: nothing was ever posted.
        Assert.Equal(2, waiting.Waiting);
        Assert.Equal(2, dropped.Dropped);
        Assert.Empty(harness.Receiver.Received);
        Assert.Equal(0, (await harness.ListAsync("pending")).RootElement.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task The_ops_list_refuses_an_unknown_status_naming_the_field()
    {
        await using var harness = await WebhookHarness.StartAsync(azurite, [new("crm", "/crm", SqlAlerts)]);
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Request.QueryString = Microsoft.AspNetCore.Http.QueryString.Create("status", "everything");

        var result = await ActivatorUtilities.CreateInstance<LeadFunctions.Admin.ListWebhookDeliveries>(harness.Services).Run(context.Request, CancellationToken.None);

        var problem = Assert.IsType<ValidationProblemDetails>(Assert.IsType<BadRequestObjectResult>(result).Value);
        Assert.Contains("status", problem.Errors.Keys);
    }
}

/// <summary>A body is kept in one table property: whatever the lead holds, it fits, and the lead's commit never fails for it.</summary>
public sealed class WebhookPayloadBoundsTests
{
    [Fact]
    public void A_huge_profile_and_reason_still_give_a_body_that_fits_one_property_and_says_the_profile_was_left_out()
    {
        var profile = Enumerable.Range(0, 64).ToDictionary(i => $"field{i}", _ => new string('x', 4000));
        var lead = new LeadSummary { LeadId = "l1-test", Email = "big@example.com", Stage = LifecycleStage.Sql, StageChangedAt = DateTimeOffset.UnixEpoch, Profile = profile, Owner = new string('o', 10_000) };
        var change = new StageChange(DateTimeOffset.UnixEpoch, LifecycleStage.Mql, LifecycleStage.Sql, new string('r', 50_000), "test", "m1", "e1");

        var body = WebhookPayload.Build(WebhookEventTypes.SqlAlert, "evt_1", lead, change, null, includeProfile: true);

        Assert.True(body.Length <= WebhookPayload.MaxBodyChars, $"{body.Length} characters");
        using var json = JsonDocument.Parse(body);
        Assert.False(json.RootElement.GetProperty("data").TryGetProperty("profile", out _));
        Assert.True(json.RootElement.GetProperty("data").TryGetProperty("profileOmitted", out _));
    }
}
