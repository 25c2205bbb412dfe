using LeadFunctions.Domain.Nurture;

namespace LeadFunctions.Domain.Tests.Nurture;

public sealed class NurtureCatalogueTests
{
    [Fact]
    public void The_shipped_programmes_file_is_valid_and_names_templates_that_exist()
    {
        // Arrange
        var json = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "config", "nurture.json"));
        var templates = Path.Combine(AppContext.BaseDirectory, "config", "templates");

        // Act
        var catalogue = NurtureCatalogueReader.Parse(json, name => File.Exists(Path.Combine(templates, name + ".html.liquid")));

        // Assert
        Assert.True(catalogue.Programmes["mql-welcome"].Steps.Count >= 3);
        Assert.Equal(StepAnchor.Enrolment, catalogue.Programmes["mql-welcome"].Steps[0].After);
    }

    [Fact]
    public void Delays_read_minutes_hours_days_and_timespans()
    {
        Assert.True(NurtureCatalogueReader.TryParseDelay("45m", out var minutes));
        Assert.True(NurtureCatalogueReader.TryParseDelay("36h", out var hours));
        Assert.True(NurtureCatalogueReader.TryParseDelay("2d", out var days));
        Assert.True(NurtureCatalogueReader.TryParseDelay("1.12:00:00", out var span));
        Assert.False(NurtureCatalogueReader.TryParseDelay("-1.00:00:00", out _));
        Assert.False(NurtureCatalogueReader.TryParseDelay("soon", out _));

        Assert.Equal(TimeSpan.FromMinutes(45), minutes);
        Assert.Equal(TimeSpan.FromHours(36), hours);
        Assert.Equal(TimeSpan.FromDays(2), days);
        Assert.Equal(TimeSpan.FromHours(36), span);
    }

    [Fact]
    public void Every_problem_is_reported_at_once_naming_the_programme_and_step()
    {
        // Arrange
        const string json = """
            {
              "version": "x",
              "enrolOnMql": "missing",
              "programmes": [
                { "id": "welcome", "version": "1", "steps": [
                  { "id": "one", "delay": "soon", "subject": "Hi", "template": "welcome" },
                  { "id": "one", "delay": "1d", "subject": "", "template": "../etc/passwd" },
                  { "id": "three", "delay": "1d", "after": "lunch", "subject": "Hi", "template": "nope" }
                ] }
              ]
            }
            """;

        // Act
        var error = Assert.Throws<NurtureConfigurationException>(() => NurtureCatalogueReader.Parse(json, name => name == "welcome"));

        // Assert
        Assert.Contains(error.Errors, e => e.Contains("programme 'welcome' step 'one': delay 'soon'", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("step 'one': id is used twice", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("subject is missing", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("template '../etc/passwd' must be a plain name", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("step 'three': after 'lunch'", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("step 'three': template 'nope' has no file", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.Contains("enrolOnMql names programme 'missing'", StringComparison.Ordinal));
    }

    [Fact]
    public void An_unknown_property_is_refused_rather_than_silently_ignored()
    {
        const string json = """{ "version": "1", "enrolOnMql": "a", "programmes": [ { "id": "a", "version": "1", "steps": [ { "id": "s", "delay": "0", "subject": "x", "template": "t", "delayDays": 3 } ] } ] }""";

        var error = Assert.Throws<NurtureConfigurationException>(() => NurtureCatalogueReader.Parse(json));

        Assert.Contains("delayDays", error.Message, StringComparison.Ordinal);
    }
}
