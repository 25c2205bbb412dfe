using LeadFunctions.Domain.Nurture;

namespace LeadFunctions.Domain.Tests.Nurture;

public sealed class SendWindowTests
{
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");
    private static readonly TimeZoneInfo London = TimeZoneInfo.FindSystemTimeZoneById("Europe/London");

    private static SendWindow Window(string hours, params string[] days)
    {
        var errors = new List<string>();
        var window = SendWindowReader.Parse(new SendWindowModel { Days = [.. days], Hours = hours }, "programme 'p'", errors);
        Assert.Empty(errors);
        return window!;
    }

    private static SendWindow Weekdays => Window("09:00-17:00", "mon", "tue", "wed", "thu", "fri");
    private static SendWindow EveryDay(string hours) => Window(hours, "mon", "tue", "wed", "thu", "fri", "sat", "sun");

    [Fact]
    public void An_instant_inside_the_window_is_its_own_opening()
    {
        var at = new DateTimeOffset(2026, 3, 4, 15, 30, 0, TimeSpan.Zero); // Wednesday 10:30 in New York

        Assert.Equal(at, Weekdays.NextOpening(at, NewYork));
    }

    [Fact]
    public void Saturday_night_in_new_york_opens_on_monday_at_nine_local_after_the_spring_forward_sunday()
    {
        // Saturday 7 March 2026 03:00 EST; the clocks go forward on Sunday 8 March.
        var at = new DateTimeOffset(2026, 3, 7, 3, 0, 0, TimeSpan.FromHours(-5));

        var opening = Weekdays.NextOpening(at, NewYork);

        Assert.Equal(new DateTimeOffset(2026, 3, 9, 9, 0, 0, TimeSpan.FromHours(-4)), opening);
        Assert.Equal(new DateTimeOffset(2026, 3, 9, 13, 0, 0, TimeSpan.Zero), opening.ToUniversalTime());
    }

    [Fact]
    public void Friday_evening_in_new_york_opens_on_monday_at_nine_standard_time_after_the_fall_back()
    {
        var at = new DateTimeOffset(2026, 10, 30, 18, 0, 0, TimeSpan.FromHours(-4));

        var opening = Weekdays.NextOpening(at, NewYork);

        Assert.Equal(new DateTimeOffset(2026, 11, 2, 14, 0, 0, TimeSpan.Zero), opening.ToUniversalTime());
    }

    [Fact]
    public void A_window_that_starts_in_the_hour_london_skips_opens_when_the_clocks_jump()
    {
        // 29 March 2026: 01:00 GMT becomes 02:00 BST, so 01:30 never happens.
        var at = new DateTimeOffset(2026, 3, 28, 12, 0, 0, TimeSpan.Zero);

        var opening = EveryDay("01:30-03:00").NextOpening(at, London);

        Assert.Equal(new DateTimeOffset(2026, 3, 29, 1, 0, 0, TimeSpan.Zero), opening.ToUniversalTime());
        Assert.True(EveryDay("01:30-03:00").Contains(opening, London));
    }

    [Fact]
    public void A_window_wholly_inside_a_skipped_hour_waits_for_the_next_week()
    {
        // New York skips 02:00-03:00 on Sunday 8 March 2026.
        var sundayNight = Window("02:00-02:30", "sun");
        var at = new DateTimeOffset(2026, 3, 7, 12, 0, 0, TimeSpan.FromHours(-5));

        var opening = sundayNight.NextOpening(at, NewYork);

        Assert.Equal(new DateTimeOffset(2026, 3, 15, 2, 0, 0, TimeSpan.FromHours(-4)), opening);
    }

    [Fact]
    public void A_start_london_passes_twice_in_the_fall_back_night_opens_at_its_first_pass_after_now()
    {
        // 25 October 2026: 02:00 BST becomes 01:00 GMT, so 01:00-02:00 happens twice.
        var window = EveryDay("01:30-05:00");
        var beforeBoth = new DateTimeOffset(2026, 10, 24, 23, 0, 0, TimeSpan.Zero); // 00:00 BST
        var betweenPasses = new DateTimeOffset(2026, 10, 25, 1, 10, 0, TimeSpan.Zero); // 01:10 GMT, the second pass

        Assert.Equal(new DateTimeOffset(2026, 10, 25, 0, 30, 0, TimeSpan.Zero), window.NextOpening(beforeBoth, London).ToUniversalTime());
        Assert.Equal(new DateTimeOffset(2026, 10, 25, 1, 30, 0, TimeSpan.Zero), window.NextOpening(betweenPasses, London).ToUniversalTime());
    }

    [Theory]
    [InlineData("America/New_York")]
    [InlineData("Europe/London")]
    [InlineData("Australia/Lord_Howe")]
    [InlineData("Pacific/Apia")]
    public void Every_hour_of_two_years_finds_an_opening_inside_the_window_within_eight_days(string zoneId)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(zoneId);
        var windows = new[] { Weekdays, EveryDay("01:30-02:15"), Window("00:00-24:00", "sun"), Window("02:00-02:30", "sun") };
        var start = new DateTimeOffset(2011, 1, 1, 0, 17, 0, TimeSpan.Zero);

        foreach (var window in windows)
        {
            for (var at = start; at < start.AddYears(2); at = at.AddHours(1))
            {
                var opening = window.NextOpening(at, zone);
                Assert.True(opening >= at, $"{window} at {at:O}: {opening:O} is before now");
                Assert.True(opening - at <= TimeSpan.FromDays(15), $"{window} at {at:O}: {opening:O} is too far");
                Assert.True(opening == at || window.Contains(opening, zone), $"{window} at {at:O}: {opening:O} is outside the window");
                Assert.False(window.Contains(opening.AddMinutes(-1), zone) && opening != at && opening.AddMinutes(-1) > at,
                    $"{window} at {at:O}: the window was already open a minute before {opening:O}");
            }
        }
    }

    [Fact]
    public void Window_errors_name_the_programme_and_the_field()
    {
        const string json = """
            { "version": "1", "enrolOnMql": "p", "defaultTimeZone": "Mars/Olympus_Mons", "programmes": [
              { "id": "p", "version": "1", "sendWindow": { "days": ["mon", "funday"], "hours": "17:00-09:00" },
                "steps": [ { "id": "a", "delay": "0", "subject": "A", "template": "t" } ] },
              { "id": "q", "version": "1", "sendWindow": { "days": [], "hours": "9-5" },
                "steps": [ { "id": "a", "delay": "0", "subject": "A", "template": "t" } ] },
              { "id": "r", "version": "1", "sendWindow": { "days": ["sat"], "hours": "25:00-26:00" },
                "steps": [ { "id": "a", "delay": "0", "subject": "A", "template": "t" } ] } ] }
            """;

        var errors = Assert.Throws<NurtureConfigurationException>(() => NurtureCatalogueReader.Parse(json)).Errors;

        Assert.Contains(errors, e => e.StartsWith("programme 'p': sendWindow.days 'funday'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("programme 'p': sendWindow.hours '17:00-09:00' must start before it ends", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("programme 'q': sendWindow.days is empty", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("programme 'q': sendWindow.hours '9-5' must be \"HH:mm-HH:mm\"", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("programme 'r': sendWindow.hours '25:00-26:00' has a time that does not exist", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("defaultTimeZone 'Mars/Olympus_Mons'", StringComparison.Ordinal));
    }

    [Fact]
    public void A_valid_window_and_default_zone_are_read_onto_the_programme_and_catalogue()
    {
        const string json = """
            { "version": "1", "enrolOnMql": "p", "defaultTimeZone": "Europe/Berlin", "programmes": [
              { "id": "p", "version": "1", "sendWindow": { "days": ["Monday", "TUE"], "hours": "08:30-24:00" },
                "steps": [ { "id": "a", "delay": "0", "subject": "A", "template": "t" } ] } ] }
            """;

        var catalogue = NurtureCatalogueReader.Parse(json);

        var window = catalogue.Programmes["p"].Window!;
        Assert.Equal([DayOfWeek.Monday, DayOfWeek.Tuesday], window.Days.Order());
        Assert.Equal(new TimeSpan(8, 30, 0), window.Start);
        Assert.Equal(TimeSpan.FromDays(1), window.End);
        Assert.Equal("Europe/Berlin", catalogue.DefaultTimeZone!.Id);
    }

    [Fact]
    public void The_lead_time_zone_comes_from_the_profile_then_the_country_then_the_default_then_utc()
    {
        var berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

        var own = LeadTimeZones.Resolve(new Dictionary<string, string> { ["timeZone"] = "Asia/Tokyo", ["country"] = "US" }, berlin);
        var badOwn = LeadTimeZones.Resolve(new Dictionary<string, string> { ["timeZone"] = "Not/A_Zone", ["country"] = "United States" }, berlin);
        var windowsName = LeadTimeZones.Resolve(new Dictionary<string, string> { ["timeZone"] = "Eastern Standard Time", ["country"] = "gb" }, berlin);
        var unknownCountry = LeadTimeZones.Resolve(new Dictionary<string, string> { ["country"] = "Atlantis" }, berlin);
        var nothing = LeadTimeZones.Resolve(new Dictionary<string, string>(), null);

        Assert.Equal(("Asia/Tokyo", TimeZoneSource.Profile), (own.Zone.Id, own.Source));
        Assert.Equal(("America/New_York", TimeZoneSource.Country), (badOwn.Zone.Id, badOwn.Source));
        Assert.Equal(("Europe/London", TimeZoneSource.Country), (windowsName.Zone.Id, windowsName.Source));
        Assert.Equal(("Europe/Berlin", TimeZoneSource.Default), (unknownCountry.Zone.Id, unknownCountry.Source));
        Assert.Equal(TimeZoneSource.Utc, nothing.Source);
        Assert.Equal(TimeSpan.Zero, nothing.Zone.BaseUtcOffset);
    }

    [Fact]
    public void Every_zone_of_the_country_map_exists_on_this_machine()
    {
        foreach (var (country, zone) in LeadTimeZones.ByCountry)
            Assert.True(LeadTimeZones.TryFind(zone, out _), $"{country}: {zone} is not known here");
    }

    [Fact]
    public void The_gate_holds_a_step_outside_the_window_and_lets_a_programme_without_one_through()
    {
        var programme = new NurtureProgramme("p", "1", []) { Window = Weekdays };
        var saturday = new DateTimeOffset(2026, 3, 7, 8, 0, 0, TimeSpan.Zero);
        var profile = new Dictionary<string, string> { ["timeZone"] = "America/New_York" };

        var held = SendWindowGate.Hold(programme, profile, null, saturday);
        var free = SendWindowGate.Hold(programme with { Window = null }, profile, null, saturday);

        Assert.Equal(new DateTimeOffset(2026, 3, 9, 13, 0, 0, TimeSpan.Zero), held!.RetryAt);
        Assert.True(held.Reschedule);
        Assert.Null(free);
    }
}
