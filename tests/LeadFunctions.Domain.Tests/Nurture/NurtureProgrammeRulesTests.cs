using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Messaging.Composition;
using LeadFunctions.Domain.Nurture;

namespace LeadFunctions.Domain.Tests.Nurture;

public sealed class NurtureProgrammeRulesTests
{
    private static readonly DateTimeOffset At = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    private const string Programmes = """
        {
          "version": "2026-03",
          "programmes": [
            { "id": "general", "version": "1", "priority": 1, "entry": { "on": ["mql", "requalified"] },
              "exit": { "goals": [ { "form": "demo-request" }, { "visit": "*/pricing*" } ] },
              "steps": [
                { "id": "welcome", "delay": "0", "subject": "Hi", "template": "t" },
                { "id": "clicked-guide", "branch": { "wait": "3d", "click": "guide" }, "then": "case-study", "else": "nudge" },
                { "id": "case-study", "delay": "0", "subject": "Case", "template": "t", "next": "end" },
                { "id": "nudge", "delay": "1d", "subject": "Nudge", "template": "t" }
              ] },
            { "id": "software", "version": "1", "priority": 5,
              "entry": { "on": ["mql"], "fitGrades": ["A", "B"], "profile": { "industry": ["Software", "SaaS"] } },
              "steps": [ { "id": "dev", "delay": "0", "subject": "Dev", "template": "t" } ] },
            { "id": "engaged", "version": "1", "priority": 7,
              "entry": { "on": ["mql"], "score": { "name": "engagement", "min": 80 } },
              "steps": [ { "id": "hot", "delay": "0", "subject": "Hot", "template": "t" } ] },
            { "id": "webinar", "version": "1", "priority": 9,
              "entry": { "on": ["mql"], "forms": ["event-registration"] },
              "steps": [ { "id": "replay", "delay": "0", "subject": "Replay", "template": "t" } ] },
            { "id": "comeback", "version": "1", "priority": 3, "entry": { "on": ["requalified"] },
              "steps": [ { "id": "again", "delay": "0", "subject": "Again", "template": "t" } ] }
          ]
        }
        """;

    private static NurtureCatalogue Catalogue() => NurtureCatalogueReader.Parse(Programmes, _ => true);

    private static LeadSummary Lead(string grade = "C", double engagement = 50, string? industry = null, string? form = null, string? intent = null) => new()
    {
        LeadId = "lead-1",
        Email = "ada@example.com",
        Stage = LifecycleStage.Mql,
        StageChangedAt = At,
        FitGrade = grade,
        EngagementScore = engagement,
        Profile = industry is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["Industry"] = industry },
        OriginForm = form,
        OriginIntent = intent,
    };

    private static IReadOnlyList<string> Errors(string json) =>
        Assert.Throws<NurtureConfigurationException>(() => NurtureCatalogueReader.Parse(json, _ => true)).Errors;

    private static string OneProgramme(string steps, string extra = "") => $$"""
        { "version": "1", "programmes": [ { "id": "p", "version": "1", "priority": 1, "entry": { "on": ["mql"] } {{extra}}, "steps": [ {{steps}} ] } ] }
        """;

    [Fact]
    public void The_new_format_reads_priorities_entries_goals_and_branches()
    {
        // Act
        var catalogue = Catalogue();

        // Assert
        var general = catalogue.Programmes["general"];
        Assert.Equal(1, general.Priority);
        Assert.Equal(2, general.Exit.Goals.Count);
        var branch = general.Steps[1].Branch!;
        Assert.Equal(TimeSpan.FromDays(3), branch.Wait);
        Assert.Equal(new NurtureBehaviour(BehaviourKind.Click, "guide", "welcome"), branch.When);
        Assert.Equal(("case-study", "nudge"), (branch.Then, branch.Else));
        Assert.Null(general.After("case-study")); // "next": "end"
        Assert.Equal("clicked-guide", general.After("welcome")!.Id);
    }

    [Fact]
    public void A_file_in_the_first_format_still_reads_as_one_programme_entered_on_mql_and_requalified()
    {
        // Arrange
        const string json = """
            { "version": "1", "enrolOnMql": "a", "programmes": [
              { "id": "a", "version": "1", "steps": [ { "id": "s", "delay": "0", "subject": "x", "template": "t" } ] },
              { "id": "b", "version": "1", "steps": [ { "id": "s", "delay": "0", "subject": "x", "template": "t" } ] } ] }
            """;

        // Act
        var catalogue = NurtureCatalogueReader.Parse(json, _ => true);

        // Assert
        Assert.Equal("a", catalogue.Select(Lead(), NurtureEntryKind.Mql)!.Id);
        Assert.Equal("a", catalogue.Select(Lead(), NurtureEntryKind.Requalified)!.Id);
    }

    [Fact]
    public void The_first_format_mixed_with_entries_fails_naming_enrol_on_mql()
    {
        var errors = Errors("""
            { "version": "1", "enrolOnMql": "a", "programmes": [
              { "id": "a", "version": "1", "entry": { "on": ["mql"] }, "steps": [ { "id": "s", "delay": "0", "subject": "x", "template": "t" } ] } ] }
            """);

        Assert.Contains(errors, e => e.StartsWith("enrolOnMql: cannot be combined", StringComparison.Ordinal));
    }

    [Fact]
    public void A_branch_to_an_unknown_step_or_to_itself_fails_naming_the_programme_and_step()
    {
        var errors = Errors(OneProgramme("""
            { "id": "one", "delay": "0", "subject": "x", "template": "t" },
            { "id": "fork", "branch": { "wait": "2d", "open": true }, "then": "nowhere", "else": "fork" }
            """));

        Assert.Contains("programme 'p' step 'fork': then names step 'nowhere', which is not in the programme.", errors);
        Assert.Contains("programme 'p' step 'fork': else points at the step itself.", errors);
    }

    [Fact]
    public void Unreachable_steps_and_loops_fail_naming_the_step()
    {
        var unreachable = Errors(OneProgramme("""
            { "id": "one", "delay": "0", "subject": "x", "template": "t", "next": "end" },
            { "id": "orphan", "delay": "0", "subject": "x", "template": "t" }
            """));
        var loop = Errors(OneProgramme("""
            { "id": "one", "delay": "0", "subject": "x", "template": "t" },
            { "id": "fork", "branch": { "wait": "2d", "open": true }, "then": "two", "else": "end" },
            { "id": "two", "delay": "1d", "subject": "x", "template": "t", "next": "one" }
            """));

        Assert.Contains(unreachable, e => e.StartsWith("programme 'p' step 'orphan': is unreachable", StringComparison.Ordinal));
        Assert.Contains(loop, e => e.StartsWith("programme 'p' step 'two': goes back to step 'one'", StringComparison.Ordinal));
    }

    [Fact]
    public void A_branch_needs_one_condition_a_positive_wait_and_an_email_to_watch()
    {
        var errors = Errors(OneProgramme("""
            { "id": "fork", "branch": { "wait": "0", "click": "guide", "visit": "*/pricing" }, "then": "one", "else": "end" },
            { "id": "one", "delay": "0", "subject": "x", "template": "t", "then": "one" }
            """));

        Assert.Contains(errors, e => e.StartsWith("programme 'p' step 'fork': branch.wait '0' is not a positive duration", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("programme 'p' step 'fork': branch needs exactly one condition", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("programme 'p' step 'fork': branch.email is missing", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("programme 'p' step 'one': then and else belong to a branch step", StringComparison.Ordinal));
    }

    [Fact]
    public void Entry_and_priority_problems_name_the_programme()
    {
        var errors = Errors("""
            { "version": "1", "programmes": [
              { "id": "a", "version": "1", "priority": 2, "entry": { "on": ["sql"], "score": { "min": 3 } }, "steps": [ { "id": "s", "delay": "0", "subject": "x", "template": "t" } ] },
              { "id": "b", "version": "1", "priority": 2, "entry": { "on": ["mql"], "profile": { "industry": [] } },
                "exit": { "goals": [ { "form": "demo", "visit": "*/pricing" } ] }, "steps": [ { "id": "s", "delay": "0", "subject": "x", "template": "t" } ] } ] }
            """);

        Assert.Contains(errors, e => e.StartsWith("programme 'a': entry.on 'sql' must be", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("programme 'a': entry.score.name is missing", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("programme 'b': entry.profile.industry must list", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("programme 'b': exit.goals[0] must give exactly one", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("programmes 'a' and 'b' have the same priority 2", StringComparison.Ordinal));
    }

    [Fact]
    public void A_new_mql_enters_the_highest_priority_programme_whose_entry_matches()
    {
        var catalogue = Catalogue();

        Assert.Equal("general", catalogue.Select(Lead(), NurtureEntryKind.Mql)!.Id);
        Assert.Equal("software", catalogue.Select(Lead(grade: "B", industry: "saas"), NurtureEntryKind.Mql)!.Id);
        Assert.Equal("engaged", catalogue.Select(Lead(grade: "A", industry: "Software", engagement: 80), NurtureEntryKind.Mql)!.Id);
        Assert.Equal("webinar", catalogue.Select(Lead(engagement: 95, form: "webinar-2025-autumn", intent: nameof(FormIntent.EventRegistration)), NurtureEntryKind.Mql)!.Id);
    }

    [Fact]
    public void Each_filter_keeps_out_a_lead_that_does_not_meet_it()
    {
        var catalogue = Catalogue();

        Assert.Equal("general", catalogue.Select(Lead(grade: "C", industry: "Software"), NurtureEntryKind.Mql)!.Id); // grade
        Assert.Equal("general", catalogue.Select(Lead(grade: "A", industry: "Retail"), NurtureEntryKind.Mql)!.Id); // profile
        Assert.Equal("general", catalogue.Select(Lead(engagement: 79.9), NurtureEntryKind.Mql)!.Id); // score
        Assert.Equal("general", catalogue.Select(Lead(form: "newsletter", intent: nameof(FormIntent.NewsletterSignup)), NurtureEntryKind.Mql)!.Id); // form
        Assert.Equal(0, NurtureScores.Of(Lead(), "intent")); // a named score the lead never earned counts as 0
    }

    [Fact]
    public void Back_to_mql_from_sql_is_requalified_and_enters_only_programmes_that_take_it()
    {
        var catalogue = Catalogue();
        var rejected = new StageChange(At, LifecycleStage.Sql, LifecycleStage.Mql, "rejected by sales", "rep", "m1", "e1");
        var scored = new StageChange(At, LifecycleStage.Lead, LifecycleStage.Mql, "score", "e2", "m1", "e2");

        Assert.Equal(NurtureEntryKind.Requalified, NurtureEntry.KindOf(rejected));
        Assert.Equal(NurtureEntryKind.Mql, NurtureEntry.KindOf(scored));
        Assert.Null(NurtureEntry.KindOf(scored with { To = LifecycleStage.Sql }));
        // "engaged" (7) would match the score but takes only new MQLs; "comeback" (3) outranks "general" (1).
        Assert.Equal("comeback", catalogue.Select(Lead(engagement: 90), NurtureEntryKind.Requalified)!.Id);
    }

    [Fact]
    public void A_takeover_needs_a_programme_that_outranks_the_current_one()
    {
        var catalogue = Catalogue();
        var lead = Lead(grade: "A", industry: "Software");

        Assert.Equal("software", catalogue.Select(lead, NurtureEntryKind.Mql, above: 1)!.Id);
        Assert.Null(catalogue.Select(lead, NurtureEntryKind.Mql, above: 5));
    }

    [Fact]
    public void Goals_match_a_demo_request_form_by_id_or_intent_and_a_pricing_page_visit()
    {
        var goals = Catalogue().Programmes["general"].Exit.Goals;
        var demo = new LeadEvent { EventId = "f", Type = LeadEventTypes.FormSubmission, OccurredAt = At, FormId = "book-a-demo", Intent = FormIntent.DemoRequest };
        var pricing = PageView("https://www.example.com/en/pricing?plan=team");
        var blog = PageView("https://www.example.com/blog/what-it-costs");

        Assert.Contains(goals, g => g.Matches(demo, "general"));
        Assert.Contains(goals, g => g.Matches(pricing, "general"));
        Assert.DoesNotContain(goals, g => g.Matches(blog, "general"));
    }

    [Fact]
    public void A_branch_goes_to_then_when_the_named_link_was_clicked_since_the_wait_began_and_else_otherwise()
    {
        var branch = Catalogue().Programmes["general"].Steps[1].Branch!;
        var waitStarted = At;

        Assert.Equal("case-study", branch.Resolve(waitStarted, At.AddHours(5)));
        Assert.Equal("nudge", branch.Resolve(waitStarted, null));
        Assert.Equal("nudge", branch.Resolve(waitStarted, At.AddDays(-2))); // a click on an older e-mail's link, before the wait
    }

    [Fact]
    public void A_click_processed_after_the_wait_ended_still_counts_when_the_branch_fires()
    {
        // The click happened inside the three days but reached the lead only after; the branch reads the record when it fires.
        var branch = Catalogue().Programmes["general"].Steps[1].Branch!;
        var recordedAt = At.AddDays(3).AddMinutes(2);

        Assert.Equal("case-study", branch.Resolve(At, recordedAt));
    }

    [Fact]
    public void Only_a_human_click_on_the_named_link_of_the_watched_email_steers_the_branch()
    {
        var when = Catalogue().Programmes["general"].Steps[1].Branch!.When;
        var human = Click("guide", "welcome");

        Assert.True(when.Matches(human, "general"));
        Assert.False(when.Matches(human with { Properties = new Dictionary<string, string>(human.Properties) { [LeadEventProperties.ProbableBot] = "true" } }, "general"));
        Assert.False(when.Matches(Click("pricing", "welcome"), "general"));
        Assert.False(when.Matches(Click("guide", "nudge"), "general"));
        Assert.False(when.Matches(human, "software"));
    }

    [Fact]
    public void A_click_condition_with_a_slash_or_star_matches_the_url_instead_of_the_name()
    {
        var when = new NurtureBehaviour(BehaviourKind.Click, "*/guides/*", "welcome");

        Assert.True(when.Matches(Click(null, "welcome", "https://www.example.com/guides/getting-started?utm_source=x"), "general"));
        Assert.False(when.Matches(Click(null, "welcome", "https://www.example.com/demo"), "general"));
    }

    [Theory]
    [InlineData("*/pricing*", "https://x.example/pricing", true)]
    [InlineData("*/pricing*", "https://x.example/PRICING/team", true)]
    [InlineData("*/pricing", "https://x.example/pricing/team", false)]
    [InlineData("https://?.example/*", "https://x.example/a", true)]
    [InlineData("*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false)]
    public void Globs_match_the_whole_url_ignoring_case(string pattern, string url, bool expected) =>
        Assert.Equal(expected, Glob.Matches(pattern, url));

    [Fact]
    public void A_link_with_a_data_link_attribute_is_tracked_with_its_name()
    {
        var names = new List<(string Url, string? Name)>();
        const string html = """<p><a data-link="guide" href="https://www.example.com/g">G</a> <a href="https://www.example.com/x">X</a></p>""";

        TrackedHtml.Rewrite(html, (url, name) => { names.Add((url, name)); return "https://t.example/c"; }, "https://t.example/o");

        Assert.Equal([("https://www.example.com/g", "guide"), ("https://www.example.com/x", (string?)null)], names);
    }

    private static LeadEvent PageView(string url) => new()
    {
        EventId = "pv-" + url.GetHashCode(StringComparison.Ordinal),
        Type = LeadEventTypes.PageView,
        OccurredAt = At,
        Properties = new Dictionary<string, string> { [LeadEventProperties.Url] = url },
    };

    private static LeadEvent Click(string? link, string step, string url = "https://www.example.com/guides/getting-started")
    {
        var properties = new Dictionary<string, string>
        {
            [LeadEventProperties.Programme] = "general",
            [LeadEventProperties.Step] = step,
            [LeadEventProperties.Url] = url,
        };
        if (link is not null)
            properties[LeadEventProperties.Link] = link;
        return new LeadEvent { EventId = "c-" + link + step, Type = LeadEventTypes.EmailClick, OccurredAt = At, Properties = properties };
    }
}
