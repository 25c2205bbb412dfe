using LeadFunctions.Domain.Nurture;
using LeadFunctions.Infrastructure.Nurture;

namespace LeadFunctions.Tests.Nurture;

public sealed class NurtureScoreNamesTests
{
    private static readonly string ShippedModel = Path.Combine(AppContext.BaseDirectory, "config", "scoring-model.json");

    private static NurtureCatalogue Catalogue(string scoreName) => NurtureCatalogueReader.Parse(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "config", "nurture.json")).Replace(
            "\"entry\": { \"on\": [\"mql\", \"requalified\"] }",
            $"\"entry\": {{ \"on\": [\"mql\", \"requalified\"], \"score\": {{ \"name\": \"{scoreName}\", \"min\": 10 }} }}",
            StringComparison.Ordinal));

    [Fact]
    public void An_entry_filter_naming_a_score_the_model_does_not_define_stops_the_start_naming_the_programme_and_field()
    {
        var errors = NurtureFilesValidation.UnknownScores(Catalogue("product-z"), ShippedModel);

        var error = Assert.Single(errors);
        Assert.Contains("programme 'mql-welcome'", error, StringComparison.Ordinal);
        Assert.Contains("entry.score.name 'product-z'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void An_entry_filter_on_the_default_engagement_score_is_accepted()
    {
        Assert.Empty(NurtureFilesValidation.UnknownScores(Catalogue("engagement"), ShippedModel));
    }
}

public sealed class NurtureNamedScoreEntryTests
{
    private static LeadFunctions.Domain.Leads.LeadSummary Lead(double productA) => new()
    {
        LeadId = "l1",
        Email = "a@example.com",
        Stage = LeadFunctions.Domain.Leads.LifecycleStage.Mql,
        StageChangedAt = DateTimeOffset.UnixEpoch,
        Scores = productA == 0 ? new Dictionary<string, double>() : new Dictionary<string, double> { ["product-a"] = productA },
    };

    private static readonly NurtureEntry Entry = new() { On = new HashSet<NurtureEntryKind> { NurtureEntryKind.Mql }, Score = new NurtureScoreFilter("product-a", 40) };

    [Fact]
    public void An_entry_filter_on_a_named_score_reads_that_score_and_a_score_never_earned_counts_as_zero()
    {
        Assert.True(Entry.Matches(Lead(45), NurtureEntryKind.Mql));
        Assert.False(Entry.Matches(Lead(39), NurtureEntryKind.Mql));
        Assert.False(Entry.Matches(Lead(0), NurtureEntryKind.Mql));
    }
}
