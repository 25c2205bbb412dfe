using System.Text;
using LeadFunctions.Crm;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Webhooks;
using LeadFunctions.Infrastructure.Stages;
using LeadFunctions.Tests.Nurture;
using LeadFunctions.Tests.Support;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using static LeadFunctions.Tests.Stages.StageHarness;

namespace LeadFunctions.Tests.Stages;

/// <summary><c>POST /api/crm/events</c>: signed CRM events through the function, the real queue and the processor in Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class CrmWebhookTests(AzuriteFixture azurite)
{
    private const string Secret = "crm-test-secret-0123456789abcdef-0123456789";
    private const string OldSecret = "crm-old-secret-0123456789abcdef-0123456789";

    private NurtureHarness Harness(string? secret = Secret, string? previous = null) => new(azurite, realLeads: true, settings: new Dictionary<string, string?>
    {
        ["Crm:WebhookSecret"] = secret ?? "",
        ["Crm:PreviousWebhookSecret"] = previous ?? "",
    });

    private static string Body(string id, string type, string email, string? reason = null) =>
        Json(new { id, type, source = "hubspot", email, reason });

    private static Task<IActionResult> SendAsync(NurtureHarness harness, string body, string? signature)
    {
        var function = ActivatorUtilities.CreateInstance<ReceiveCrmEvents>(harness.Services);
        var headers = signature is null ? null : new Dictionary<string, string> { [WebhookSignature.HeaderName] = signature };
        return function.Run(Post("/api/crm/events", body, headers), CancellationToken.None);
    }

    private static string Sign(NurtureHarness harness, string body, string secret = Secret, TimeSpan? age = null) =>
        WebhookSignature.Sign(Encoding.UTF8.GetBytes(secret), harness.Time.GetUtcNow() - (age ?? TimeSpan.Zero), Encoding.UTF8.GetBytes(body));

    private static Task<IActionResult> SendSignedAsync(NurtureHarness harness, string body) => SendAsync(harness, body, Sign(harness, body));

    [Fact]
    public async Task A_signed_deal_won_makes_the_lead_a_customer_once_even_when_the_crm_posts_it_again()
    {
        // Arrange
        await using var harness = Harness();
        var leadId = await AnSqlAsync(harness, "buyer@example.com");
        var body = Body("deal-123-won", "deal-won", "  Buyer@Example.com ", "Annual plan");

        // Act: the CRM retries before and after it was applied.
        var first = await SendSignedAsync(harness, body);
        var retried = await SendSignedAsync(harness, body);
        await DrainAsync(harness);
        harness.Time.Advance(TimeSpan.FromMinutes(1));
        var late = await SendSignedAsync(harness, body);

        // Assert
        Assert.Equal((202, 202, 202), (StatusOf(first), StatusOf(retried), StatusOf(late)));
        var ids = new[] { first, retried, late }.Select(r => Assert.IsType<CrmEventAccepted>(Assert.IsType<ObjectResult>(r).Value)).ToList();
        Assert.Single(ids.Select(i => i.EventId).Distinct());
        Assert.True(ids[2].AlreadyApplied);
        Assert.Empty(await harness.QueuedEventsAsync());
        var details = await LeadAsync(harness, leadId);
        Assert.Equal(LifecycleStage.Customer, details.Lead.Stage);
        var won = Assert.Single(details.History, h => h.To == LifecycleStage.Customer);
        Assert.Equal(("crm:hubspot", "advanced by the CRM: deal won in hubspot: Annual plan"), (won.CausedBy, won.Reason));
    }

    [Fact]
    public async Task The_crm_drives_a_lead_through_opportunity_and_a_lost_deal_back_to_mql()
    {
        await using var harness = Harness();
        var leadId = await AnSqlAsync(harness, "lost@example.com");
        harness.Time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(202, StatusOf(await SendSignedAsync(harness, Body("opp-1", "opportunity-created", "lost@example.com"))));
        await DrainAsync(harness);
        harness.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(202, StatusOf(await SendSignedAsync(harness, Body("opp-1-lost", "deal-lost", "lost@example.com", "chose a competitor"))));
        await DrainAsync(harness);

        var history = (await LeadAsync(harness, leadId)).History.OrderBy(h => h.At).TakeLast(2).ToList();
        Assert.Equal((LifecycleStage.Sql, LifecycleStage.Opportunity), (history[0].From, history[0].To));
        Assert.Equal((LifecycleStage.Opportunity, LifecycleStage.Mql, "recycled by the CRM: deal lost in hubspot: chose a competitor"),
            (history[1].From, history[1].To, history[1].Reason));
    }

    [Fact]
    public async Task A_tampered_body_is_refused_401_and_nothing_is_queued()
    {
        await using var harness = Harness();
        await AnSqlAsync(harness, "tamper@example.com");
        var signed = Body("deal-9", "deal-lost", "tamper@example.com");
        var tampered = Body("deal-9", "deal-won", "tamper@example.com");

        var result = await SendAsync(harness, tampered, Sign(harness, signed));

        Assert.Equal(401, StatusOf(result));
        Assert.Empty(await harness.QueuedEventsAsync());
    }

    [Theory]
    [InlineData(6 * 60)]
    [InlineData(-6 * 60)]
    public async Task A_request_signed_outside_the_five_minute_tolerance_is_refused_401_and_nothing_is_queued(int ageSeconds)
    {
        await using var harness = Harness();
        await AnSqlAsync(harness, "replay@example.com");
        var body = Body("deal-10", "deal-won", "replay@example.com");

        var result = await SendAsync(harness, body, Sign(harness, body, age: TimeSpan.FromSeconds(ageSeconds)));

        Assert.Equal(401, StatusOf(result));
        Assert.Contains("tolerance", Problem(result).Detail, StringComparison.Ordinal);
        Assert.Empty(await harness.QueuedEventsAsync());
    }

    [Fact]
    public async Task An_unsigned_request_is_refused_401()
    {
        await using var harness = Harness();
        await AnSqlAsync(harness, "unsigned@example.com");

        var result = await SendAsync(harness, Body("deal-11", "deal-won", "unsigned@example.com"), signature: null);

        Assert.Equal(401, StatusOf(result));
        Assert.Empty(await harness.QueuedEventsAsync());
    }

    [Fact]
    public async Task Without_a_configured_secret_every_request_is_refused_503_and_nothing_is_queued()
    {
        await using var harness = Harness(secret: null);
        await AnSqlAsync(harness, "closed@example.com");
        var body = Body("deal-12", "deal-won", "closed@example.com");

        var result = await SendAsync(harness, body, Sign(harness, body, secret: ""));

        Assert.Equal(503, StatusOf(result));
        Assert.Empty(await harness.QueuedEventsAsync());
    }

    [Fact]
    public async Task While_the_secret_is_rotated_a_request_signed_with_the_previous_one_is_accepted()
    {
        await using var harness = Harness(Secret, previous: OldSecret);
        await AnSqlAsync(harness, "rotated@example.com");
        var body = Body("deal-13", "deal-won", "rotated@example.com");

        var result = await SendAsync(harness, body, Sign(harness, body, OldSecret));

        Assert.Equal(202, StatusOf(result));
    }

    [Fact]
    public async Task An_event_about_an_unknown_lead_is_a_404_and_creates_nothing()
    {
        await using var harness = Harness();

        var result = await SendSignedAsync(harness, Body("deal-14", "deal-won", "stranger@example.com"));

        Assert.Equal(404, StatusOf(result));
        Assert.Empty(await harness.QueuedEventsAsync());
    }

    [Fact]
    public async Task A_lost_upsell_on_a_customer_is_a_409_and_the_customer_stays_a_customer()
    {
        await using var harness = Harness();
        var leadId = await AnSqlAsync(harness, "upsell@example.com");
        await SendSignedAsync(harness, Body("deal-15", "deal-won", "upsell@example.com"));
        await DrainAsync(harness);

        var result = await SendSignedAsync(harness, Body("deal-16", "deal-lost", "upsell@example.com", "upsell lost"));

        Assert.Equal(409, StatusOf(result));
        Assert.Contains("does not unmake a customer", Problem(result).Detail, StringComparison.Ordinal);
        Assert.Empty(await harness.QueuedEventsAsync());
        Assert.Equal(LifecycleStage.Customer, (await LeadAsync(harness, leadId)).Lead.Stage);
    }

    [Fact]
    public async Task The_crm_may_name_the_lead_by_id_and_a_won_deal_skips_stages_we_never_saw()
    {
        await using var harness = Harness();
        var leadId = await ALeadAsync(harness, "skipper@example.com", FormIntent.ContentDownload);
        harness.Time.Advance(TimeSpan.FromMinutes(1));

        var result = await SendSignedAsync(harness, Json(new { id = "deal-17", type = "deal-won", source = "salesforce", leadId }));
        await DrainAsync(harness);

        Assert.Equal(202, StatusOf(result));
        var won = (await LeadAsync(harness, leadId)).History.OrderBy(h => h.At).Last();
        Assert.Equal((LifecycleStage.Lead, LifecycleStage.Customer, "crm:salesforce"), (won.From, won.To, won.CausedBy));
    }

    [Theory]
    [InlineData("""{"id":"e1","type":"deal-closed","source":"hubspot","email":"field@example.com"}""", "type")]
    [InlineData("""{"type":"deal-won","source":"hubspot","email":"field@example.com"}""", "id")]
    [InlineData("""{"id":"e1","type":"deal-won","source":"hub spot!","email":"field@example.com"}""", "source")]
    [InlineData("""{"id":"e1","type":"deal-won","source":"hubspot","email":"not an address"}""", "email")]
    [InlineData("""{"id":"e1","type":"deal-won","source":"hubspot"}""", "email")]
    [InlineData("""{"id":"e1","type":"deal-won","source":"hubspot","email":"field@example.com","toStage":"lead"}""", "toStage")]
    [InlineData("""{"id":"e1","type":"deal-won","source":"hubspot","email":["field@example.com"]}""", "email")]
    [InlineData("""{"id":"e1",""", "body")]
    public async Task A_signed_body_that_is_not_a_valid_event_is_a_400_naming_the_field(string body, string field)
    {
        await using var harness = Harness();
        await AnSqlAsync(harness, "field@example.com");

        var result = await SendSignedAsync(harness, body);

        Assert.Equal(400, StatusOf(result));
        Assert.Contains(field, ErrorFields(result));
        Assert.Empty(await harness.QueuedEventsAsync());
    }

    [Fact]
    public async Task A_body_over_the_limit_is_refused_413_before_the_signature_is_checked()
    {
        await using var harness = Harness();
        var body = Json(new { id = "big", type = "deal-won", source = "hubspot", email = "big@example.com", reason = new string('x', CrmWebhook.MaxBodyBytes) });

        var result = await SendAsync(harness, body, signature: null);

        Assert.Equal(413, StatusOf(result));
    }
}
