using System.Text;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Tracking;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.SalesAlerts;
using LeadFunctions.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;

namespace LeadFunctions.Tests.Nurture;

/// <summary>
/// A token is signed, not encrypted: whoever holds the e-mail can base64url-decode it. So a sales link names the rep by an
/// opaque id, and the decision it makes is recorded with the rep we resolve that id to.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class SalesLinkPrivacyTests(AzuriteFixture azurite)
{
    private const string Rep = "milano@sales.example.com";

    [Fact]
    public async Task A_sales_link_token_carries_ids_only_and_no_address()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        var lead = await AnAlertedSqlAsync(harness, "privacy-token@example.it");
        var alert = Assert.Single(await harness.MessagesAsync());

        foreach (var route in new[] { "sales/accept", "sales/reject" })
        {
            // Act
            var payload = Payload(SalesAlertTests.TokenOf(alert.TextBody, route));

            // Assert
            Assert.DoesNotContain("@", payload, StringComparison.Ordinal);
            Assert.DoesNotContain("milano", payload, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("privacy-token", payload, StringComparison.OrdinalIgnoreCase);
            Assert.Contains(lead.LeadId, payload, StringComparison.Ordinal);
            // The rep is named by the e-mail the link came from (resolved to its recipient on our side), not by an address.
            Assert.Contains("\"a\":\"alert\"", payload, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Accepting_through_a_sales_link_records_the_resolved_rep_as_the_actor()
    {
        // Arrange
        await using var harness = new NurtureHarness(azurite);
        var lead = await AnAlertedSqlAsync(harness, "privacy-accept@example.it");
        var alert = Assert.Single(await harness.MessagesAsync());
        var token = SalesAlertTests.TokenOf(alert.TextBody, "sales/accept");
        var function = ActivatorUtilities.CreateInstance<SalesDecision>(harness.Services);
        harness.Time.Advance(TimeSpan.FromMinutes(5));

        // Act
        await function.Accept(Post(token), CancellationToken.None);

        // Assert
        var queued = Assert.Single(await harness.QueuedEventsAsync(LeadEventTypes.SalesDecision));
        Assert.Equal(LeadEventTypes.SalesDecision, queued.Type);
        Assert.Equal(Rep, queued.Property(LeadEventProperties.Actor));
        var sla = await harness.Services.GetRequiredService<NurtureStore>().FindSlaAsync(lead.LeadId, lead.StageChangedAt.UtcTicks, CancellationToken.None);
        Assert.Equal(Rep, sla?.DecidedBy);
    }

    [Fact]
    public async Task A_rep_id_nobody_we_know_has_is_recorded_as_the_opaque_id_and_never_guessed()
    {
        // Arrange: a genuine link for a rep who has since left the routing file.
        await using var harness = new NurtureHarness(azurite);
        var lead = await AnAlertedSqlAsync(harness, "privacy-gone@example.it");
        var gone = TestLeadIds.Identity.RepIdFor("left-the-company@sales.example.com");
        var token = harness.Services.GetRequiredService<TrackingTokenSigner>().Sign(new TrackingClaims
        {
            Kind = TrackingKind.Accept,
            LeadId = lead.LeadId,
            MessageId = lead.LeadId + "-alert",
            SentAtUnixSeconds = harness.Time.GetUtcNow().ToUnixTimeSeconds(),
            Actor = gone,
            SqlAtTicks = lead.StageChangedAt.UtcTicks,
        });
        var function = ActivatorUtilities.CreateInstance<SalesDecision>(harness.Services);
        harness.Time.Advance(TimeSpan.FromMinutes(5));

        // Act
        await function.Accept(Post(token), CancellationToken.None);

        // Assert
        Assert.Equal(gone, Assert.Single(await harness.QueuedEventsAsync(LeadEventTypes.SalesDecision)).Property(LeadEventProperties.Actor));
    }

    /// <summary>An Italian lead (routed to the Milan desk by rule) that became an SQL now, with its alert sent.</summary>
    private static async Task<LeadSummary> AnAlertedSqlAsync(NurtureHarness harness, string email)
    {
        var lead = NurtureLeads.New(email, harness.Time.GetUtcNow(), ("country", "IT"));
        harness.Leads.Put(lead);
        await harness.MoveAsync(lead, LifecycleStage.Sql);
        await harness.RunAsync();
        return harness.Leads.Get(lead.LeadId);
    }

    /// <summary>The JSON inside <c>keyId.base64url(json).base64url(mac)</c>, as anyone holding the e-mail can read it.</summary>
    private static string Payload(string token)
    {
        var part = token.Split('.')[1].Replace('-', '+').Replace('_', '/');
        part += new string('=', (4 - part.Length % 4) % 4);
        return Encoding.UTF8.GetString(Convert.FromBase64String(part));
    }

    private static HttpRequest Post(string token)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = HttpMethods.Post;
        context.Request.Path = "/api/sales/accept";
        context.Request.QueryString = QueryString.Create("t", token);
        context.Request.ContentType = "application/x-www-form-urlencoded";
        context.Request.Form = new FormCollection(new Dictionary<string, StringValues>());
        return context.Request;
    }
}
