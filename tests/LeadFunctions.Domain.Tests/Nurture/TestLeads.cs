using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;

namespace LeadFunctions.Domain.Tests.Nurture;

/// <summary>Builds lead summaries for tests: an MQL with marketing consent unless told otherwise.</summary>
internal sealed class TestLead
{
    private LifecycleStage _stage = LifecycleStage.Mql;
    private DateTimeOffset _stageChangedAt = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);
    private readonly Dictionary<string, string> _profile = new() { ["firstName"] = "Ada", ["lastName"] = "Lovelace", ["company"] = "Analytical Engines" };
    private readonly List<ConsentRecord> _consents = [];
    private bool _unsubscribed;
    private bool _consent = true;

    public static TestLead Mql() => new();

    public TestLead InStage(LifecycleStage stage, DateTimeOffset? since = null)
    {
        _stage = stage;
        if (since is not null)
            _stageChangedAt = since.Value;
        return this;
    }

    public TestLead Since(DateTimeOffset at)
    {
        _stageChangedAt = at;
        return this;
    }

    public TestLead With(string field, string value)
    {
        _profile[field] = value;
        return this;
    }

    public TestLead WithoutConsent()
    {
        _consent = false;
        return this;
    }

    public TestLead WithdrawnConsentAt(DateTimeOffset at)
    {
        _consents.Add(new ConsentRecord(ConsentPurposes.MarketingEmail, "v1", false, at, "preferences"));
        return this;
    }

    /// <summary>No consent but a double opt-in request made at <paramref name="at"/>, waiting for its confirmation link.</summary>
    public TestLead PendingConsentSince(DateTimeOffset at)
    {
        _consent = false;
        _consents.Add(new ConsentRecord(ConsentPurposes.MarketingEmail, "v1", false, at, "form:whitepaper") { Pending = true });
        return this;
    }

    public TestLead Unsubscribed()
    {
        _unsubscribed = true;
        return this;
    }

    public LeadSummary Build()
    {
        var consents = new List<ConsentRecord>();
        if (_consent)
            consents.Add(new ConsentRecord(ConsentPurposes.MarketingEmail, "v1", true, _stageChangedAt.AddDays(-1), "form"));
        consents.AddRange(_consents);
        return new LeadSummary
        {
            LeadId = Leads.TestIdentity.Instance.LeadIdFor("ada@example.com"),
            Email = "ada@example.com",
            Stage = _stage,
            StageChangedAt = _stageChangedAt,
            Profile = _profile,
            Consents = consents,
            Unsubscribed = _unsubscribed,
            EngagementScore = 42,
            FitScore = 30,
            FitGrade = "B",
            ModelVersion = "test-1",
        };
    }
}
