using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.SalesAlerts;

namespace LeadFunctions.Domain.Tests.Nurture;

public sealed class SalesRoutingTests
{
    private const string Routing = """
        {
          "version": "t1",
          "rules": [
            { "id": "italy", "field": "country", "values": ["IT", "Italy"], "owner": "milano@sales.example.com" },
            { "id": "big", "field": "companySize", "min": 1000, "owners": ["e1@sales.example.com", "e2@sales.example.com"] }
          ],
          "roundRobin": ["r1@sales.example.com", "r2@sales.example.com", "r3@sales.example.com"]
        }
        """;

    private static LeadSummary Lead(params (string Field, string Value)[] profile) =>
        profile.Aggregate(TestLead.Mql().InStage(LifecycleStage.Sql), (b, p) => b.With(p.Field, p.Value)).Build();

    [Fact]
    public void A_lead_whose_country_matches_a_rule_goes_to_that_rules_owner_whatever_the_case()
    {
        var routing = SalesRoutingReader.Parse(Routing);

        var decision = routing.Route(Lead(("country", "italy")));

        Assert.True(decision.ByRule);
        Assert.Equal("milano@sales.example.com", decision.Pick(17));
    }

    [Fact]
    public void A_numeric_rule_matches_by_range_and_rotates_among_its_owners()
    {
        var routing = SalesRoutingReader.Parse(Routing);

        var decision = routing.Route(Lead(("companySize", "5000")));

        Assert.Equal("rule-big", decision.PoolId);
        Assert.Equal(["e1@sales.example.com", "e2@sales.example.com", "e1@sales.example.com"], [decision.Pick(0), decision.Pick(1), decision.Pick(2)]);
    }

    [Fact]
    public void A_lead_no_rule_matches_goes_round_robin()
    {
        var routing = SalesRoutingReader.Parse(Routing);

        var decision = routing.Route(Lead(("country", "FR"), ("companySize", "50")));

        Assert.False(decision.ByRule);
        Assert.Equal(SalesRouting.RoundRobinPool, decision.PoolId);
        Assert.Equal(["r1@sales.example.com", "r2@sales.example.com", "r3@sales.example.com", "r1@sales.example.com"],
            Enumerable.Range(0, 4).Select(turn => decision.Pick(turn)).ToArray());
    }

    [Fact]
    public void A_broken_routing_file_names_each_problem()
    {
        const string json = """{ "version": "1", "rules": [ { "id": "x", "field": "", "owner": "not-an-address" } ], "roundRobin": [] }""";

        var error = Assert.Throws<SalesRoutingException>(() => SalesRoutingReader.Parse(json));

        Assert.Contains(error.Errors, e => e.Contains("rule 'x': field is missing", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("rule 'x': give values", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("owner 'not-an-address' is not an e-mail address", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("roundRobin is empty", StringComparison.Ordinal));
    }

    [Fact]
    public void The_shipped_routing_file_is_valid()
    {
        var routing = SalesRoutingReader.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "config", "sales-routing.json")));

        Assert.NotEmpty(routing.RoundRobin);
    }
    [Theory]
    [InlineData("1001+", true)]
    [InlineData("5000", true)]
    [InlineData("201-1000", false)]
    [InlineData("1000", false)]
    [InlineData("lots", false)]
    public void A_numeric_rule_matches_a_size_band_only_when_the_whole_band_is_in_range(string companySize, bool routedToTheRule)
    {
        // Arrange
        var routing = SalesRoutingReader.Parse(Routing.Replace("\"min\": 1000", "\"min\": 1001", StringComparison.Ordinal));

        // Act
        var decision = routing.Route(Lead(("companySize", companySize)));

        // Assert
        Assert.Equal(routedToTheRule, decision.PoolId == "rule-big");
    }

    [Fact]
    public void An_enterprise_demo_request_from_the_shipped_form_reaches_the_enterprise_team()
    {
        // Arrange: the largest band the shipped forms offer.
        var routing = SalesRoutingReader.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "config", "sales-routing.json")));

        // Act
        var decision = routing.Route(Lead(("companySize", "1001+"), ("country", "DE")));

        // Assert
        Assert.Equal("rule-enterprise", decision.PoolId);
    }
}
