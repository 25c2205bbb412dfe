using LeadFunctions.Domain.Scoring;

namespace LeadFunctions.Domain.Tests.Scoring;

public sealed class ScoringModelLoaderTests
{
    [Fact]
    public void The_shipped_model_file_is_valid()
    {
        var model = ScoringModelLoader.LoadFile(Path.Combine(AppContext.BaseDirectory, "config", "scoring-model.json"));

        Assert.False(string.IsNullOrWhiteSpace(model.Version));
        Assert.Contains(model.EngagementRules, r => r.Points < 0);
        Assert.Equal(["A", "B", "C", "D"], model.Grades.Select(g => g.Grade));
    }

    [Fact]
    public void A_rule_whose_points_are_not_a_number_is_refused_naming_the_rule()
    {
        var json = TestModels.Json.Replace("\"points\": -15", "\"points\": \"minus fifteen\"", StringComparison.Ordinal);

        var error = Assert.Throws<InvalidScoringModelException>(() => ScoringModelLoader.Load(json));

        Assert.Equal(["engagementRules[6] (careers): points must be a number"], error.Errors);
    }

    [Fact]
    public void Every_problem_is_reported_together_with_where_it_is()
    {
        var json = """
            {
              "decay": { "halfLifeDays": 0 },
              "engagementRules": [
                { "id": "a", "points": 1, "match": { "eventType": "page-veiw" } },
                { "id": "a", "points": 1, "match": { "urlRegex": "(" }, "cap": { "count": 0, "per": "month" } },
                { "points": 1, "match": { "colour": "red" } }
              ],
              "fitRules": [ { "id": "size", "field": "companySize", "range": { "min": 500, "max": 50 }, "points": 5 } ],
              "grades": { "A": 10, "B": 20, "C": 5, "D": 0 },
              "qualification": { "mql": { "minEngagement": 50, "minGrade": "E" }, "sql": { "minEngagement": 100, "minGrade": "B" } }
            }
            """;

        var errors = Assert.Throws<InvalidScoringModelException>(() => ScoringModelLoader.Load(json)).Errors;

        Assert.Contains("version must be a non-empty string", errors);
        Assert.Contains("decay.halfLifeDays must be greater than 0 and at most 3650", errors);
        Assert.Contains(errors, e => e.StartsWith("engagementRules[0] (a): match.eventType 'page-veiw' is not an event type", StringComparison.Ordinal));
        Assert.Contains("engagementRules[1] (a): id is used by another rule", errors);
        Assert.Contains(errors, e => e.StartsWith("engagementRules[1] (a): match.urlRegex is not a valid regular expression", StringComparison.Ordinal));
        Assert.Contains("engagementRules[1] (a): cap.count must be a whole number of at least 1", errors);
        Assert.Contains("engagementRules[1] (a): cap.per must be day, week or ever", errors);
        Assert.Contains("engagementRules[2]: id must be a non-empty string", errors);
        Assert.Contains(errors, e => e.StartsWith("engagementRules[2]: match.colour is not a known criterion", StringComparison.Ordinal));
        Assert.Contains("fitRules[0] (size): range.min is greater than range.max", errors);
        Assert.Contains("grades.B (20) must not be above the grade before it (10)", errors);
        Assert.Contains("qualification.mql.minGrade must be one of A, B, C, D", errors);
    }

    [Fact]
    public void A_model_that_is_not_json_is_refused_with_the_parser_position()
    {
        var error = Assert.Throws<InvalidScoringModelException>(() => ScoringModelLoader.Load("{ \"version\": "));

        Assert.StartsWith("the model is not valid JSON", Assert.Single(error.Errors), StringComparison.Ordinal);
    }
}
