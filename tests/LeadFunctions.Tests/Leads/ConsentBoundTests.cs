using Azure.Data.Tables;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Tests.Support;

namespace LeadFunctions.Tests.Leads;

/// <summary>Every form submission carries a consent record; however many arrive, the lead row stays within Table Storage's limits.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ConsentBoundTests(AzuriteFixture azurite)
{
    /// <summary>A table string property holds 64 KiB, i.e. 32K UTF-16 characters; the consents must stay far below.</summary>
    private const int ConsentsJsonBudget = 16_000;

    [Fact]
    public async Task Three_hundred_consent_submissions_for_one_address_leave_the_lead_row_bounded_and_processable()
    {
        // Arrange
        var harness = new ScoringHarness(azurite);
        const string email = "many.signups@example.com";
        var at = harness.Time.GetUtcNow();

        // Act: 300 sign-ups, each with its own consent record (the time makes every one different).
        for (var i = 0; i < 300; i++)
        {
            harness.Time.Advance(TimeSpan.FromMinutes(1));
            var now = harness.Time.GetUtcNow();
            await harness.Processor.ProcessAsync(Events.Form(email, now, FormIntent.NewsletterSignup) with
            {
                Consents = [new ConsentRecord(ConsentPurposes.MarketingEmail, "newsletter-2025-06-with-a-long-text-version-" + i, false, now, "form:newsletter-with-a-long-form-id") { Pending = true }],
            }, CancellationToken.None);
        }

        // Assert: the row is small, and the lead still takes events and reads back.
        var row = (await harness.Table.Client.GetEntityAsync<TableEntity>(ScoringHarness.LeadIdOf(email), "!lead")).Value;
        Assert.InRange(row.GetString("ConsentsJson")!.Length, 1, ConsentsJsonBudget);
        var next = await harness.Processor.ProcessAsync(Events.Download(email, harness.Time.GetUtcNow()), CancellationToken.None);
        Assert.Equal(LeadEventOutcome.Applied, next.Outcome);
        var lead = (await harness.LeadAsync(email)).Lead;
        Assert.InRange(lead.Consents.Count, 1, 2 * ConsentRules.MaxPurposes + ConsentRules.MaxRecentRecords);
        Assert.Equal("newsletter-2025-06-with-a-long-text-version-299", lead.PendingMarketingEmailRequest?.TextVersion);
        Assert.True(lead.Consents.All(c => c.At > at));
    }
}
