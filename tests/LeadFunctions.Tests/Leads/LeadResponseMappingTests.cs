using System.Text.Json;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Leads;
using LeadFunctions.Tests.Support;

namespace LeadFunctions.Tests.Leads;

/// <summary>The full explanation of a lead and the paged detail come from one mapping: every field they share reads the same.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class LeadResponseMappingTests(AzuriteFixture azurite)
{
    private const string Email = "mapping.reader@example.com";
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_full_explanation_and_the_detail_of_a_lead_agree_on_every_field_they_share(bool suppressed)
    {
        // Arrange: a lead with a profile, points, stage changes and (in one case) a suppression record.
        var harness = new ScoringHarness(azurite);
        var start = harness.Time.GetUtcNow();
        await harness.ProcessAsync(
        [
            Events.Form(Email, start, profile: new() { ["firstName"] = "Ada", ["lastName"] = "Reader", ["company"] = "Example Ltd" }),
            Events.Download(Email, start.AddMinutes(1)),
            .. Enumerable.Range(0, 5).Select(i => Events.PageView(start.AddMinutes(2 + i), $"https://example.com/pricing/{i}", Email)),
        ]);
        harness.Time.Advance(TimeSpan.FromHours(3));
        var suppression = suppressed ? new Suppression(start.AddHours(1), "one-click") : null;
        var leadId = ScoringHarness.LeadIdOf(Email);

        // Act
        var full = LeadResponse.From((await harness.Directory.FindAsync(leadId, CancellationToken.None))!, suppression);
        var page = (await harness.Directory.FindPageAsync(leadId, new LeadDetailQuery(LeadDetailQuery.MaxLimit, LeadDetailQuery.MaxLimit), CancellationToken.None)).Page!;
        var detail = LeadDetailResponse.From(page, suppression, []);

        // Assert: every field of the full answer is in the detail with the same JSON; the lists hold the same rows.
        using var fullJson = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(full, Web));
        using var detailJson = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(detail, Web));
        Assert.NotEmpty(full.Ledger);
        Assert.NotEmpty(full.History);
        foreach (var field in fullJson.RootElement.EnumerateObject())
        {
            var shared = detailJson.RootElement.GetProperty(field.Name);
            if (field.Name is "ledger" or "history")
                Assert.Equal(Rows(field.Value), Rows(shared.GetProperty("items")));
            else
                Assert.Equal(field.Value.GetRawText(), shared.GetRawText());
        }
        Assert.Equal(suppressed, detail.Unsubscribed);
    }

    private static List<string> Rows(JsonElement list) => [.. list.EnumerateArray().Select(r => r.GetRawText()).Order(StringComparer.Ordinal)];
}
