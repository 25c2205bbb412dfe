using System.Globalization;
using System.Text;
using LeadFunctions.Domain.Events;

namespace LeadFunctions.Benchmarks.Scoring;

/// <summary>A realistic 50-rule model: every criterion kind, globs and regexes, caps of every period, negative points.</summary>
internal static class BenchmarkModels
{
    public static string FiftyRules()
    {
        var rules = new List<string>();
        string[] types = [LeadEventTypes.PageView, LeadEventTypes.ContentDownload, LeadEventTypes.EmailOpen, LeadEventTypes.EmailClick, LeadEventTypes.AddToCart, LeadEventTypes.WebinarRegistration];
        string[] periods = ["day", "week", "ever"];
        for (var i = 0; i < 50; i++)
        {
            var n = i.ToString(CultureInfo.InvariantCulture);
            var type = types[i % types.Length];
            var match = (i % 5) switch
            {
                0 => $$"""{ "eventType": "{{type}}" }""",
                1 => $$"""{ "eventType": "page-view", "url": "https://example.com/section{{n}}/*" }""",
                2 => $$"""{ "eventType": "page-view", "urlRegex": "/(careers|jobs{{n}})(/|$)" }""",
                3 => $$"""{ "eventType": "email-click", "campaign": "campaign-{{n}}" }""",
                _ => $$"""{ "eventType": "content-download", "funnelStage": "{{(i % 3 == 0 ? "top" : i % 3 == 1 ? "middle" : "bottom")}}" }""",
            };
            var points = i % 7 == 2 ? "-10" : (1 + i % 20).ToString(CultureInfo.InvariantCulture);
            var cap = i % 2 == 0 ? $$""", "cap": { "count": {{1 + i % 5}}, "per": "{{periods[i % 3]}}" }""" : "";
            rules.Add($$"""{ "id": "rule-{{n}}", "points": {{points}}, "match": {{match}}{{cap}} }""");
        }
        var json = new StringBuilder();
        json.Append("""{ "version": "bench-50", "decay": { "halfLifeDays": 30 }, "engagementRules": [""");
        json.AppendJoin(",\n", rules);
        json.Append("""
            ],
            "fitRules": [
              { "id": "cto", "field": "role", "oneOf": ["CTO", "CEO"], "points": 30 },
              { "id": "size", "field": "companySize", "range": { "min": 50, "max": 5000 }, "points": 20 },
              { "id": "industry", "field": "industry", "contains": "software", "points": 20 }
            ],
            "grades": { "A": 60, "B": 40, "C": 20, "D": 0 },
            "qualification": { "mql": { "minEngagement": 50, "minGrade": "C" }, "sql": { "minEngagement": 100, "minGrade": "B" } }
            }
            """);
        return json.ToString();
    }

    /// <summary>A stream of activity as the queue sees it: mostly page views, then downloads, e-mail engagement and forms.</summary>
    public static LeadEvent[] Events(int count, DateTimeOffset start)
    {
        var events = new LeadEvent[count];
        for (var i = 0; i < count; i++)
        {
            var n = i.ToString(CultureInfo.InvariantCulture);
            var at = start.AddMinutes(i);
            events[i] = (i % 10) switch
            {
                < 5 => Activity(n, LeadEventTypes.PageView, at, LeadEventProperties.Url, $"https://example.com/section{i % 50}/page{n}"),
                5 => Activity(n, LeadEventTypes.PageView, at, LeadEventProperties.Url, "https://example.com/careers/"),
                6 => Activity(n, LeadEventTypes.ContentDownload, at, LeadEventProperties.FunnelStage, (i % 3) switch { 0 => "top", 1 => "middle", _ => "bottom" }),
                7 => Activity(n, LeadEventTypes.EmailClick, at, LeadEventProperties.Campaign, $"campaign-{i % 50}"),
                8 => Activity(n, LeadEventTypes.EmailOpen, at, LeadEventProperties.Campaign, "campaign-3"),
                _ => new LeadEvent
                {
                    EventId = "e" + n,
                    Type = LeadEventTypes.FormSubmission,
                    OccurredAt = at,
                    Email = "ada@example.com",
                    Intent = FormIntent.ContentDownload,
                    FormId = "whitepaper",
                    Profile = new Dictionary<string, string> { ["role"] = "CTO", ["companySize"] = "250" },
                },
            };
        }
        return events;
    }

    private static LeadEvent Activity(string n, string type, DateTimeOffset at, string key, string value) => new()
    {
        EventId = "e" + n,
        Type = type,
        OccurredAt = at,
        Email = "ada@example.com",
        Properties = new Dictionary<string, string> { [key] = value },
    };
}
