using System.Globalization;
using System.Text.RegularExpressions;

namespace LeadFunctions.Domain.Nurture;

/// <summary>
/// The days and hours a programme may send, in the lead's own time zone: <see cref="Start"/> inclusive, <see cref="End"/>
/// exclusive (<c>"09:00-17:00"</c> sends from 09:00 up to 16:59:59). Only marketing steps are held by a window; sales alerts
/// and SLA steps never are.
/// </summary>
public sealed record SendWindow(IReadOnlySet<DayOfWeek> Days, TimeSpan Start, TimeSpan End)
{
    /// <summary>How many days ahead an opening is looked for: a week, and one more for a window that starts in a skipped hour.</summary>
    private const int DaysAhead = 8;

    /// <summary>A DST gap is at most a day (Samoa skipped one in 2011); the first valid minute after a skipped start is found within it.</summary>
    private const int MaxGapMinutes = 24 * 60;

    public bool Contains(DateTimeOffset at, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var local = TimeZoneInfo.ConvertTime(at, zone);
        return Days.Contains(local.DayOfWeek) && local.TimeOfDay >= Start && local.TimeOfDay < End;
    }

    /// <summary>
    /// <paramref name="at"/> itself when it is inside the window, else the first instant after it that is. An opening whose
    /// start is skipped by a spring-forward change opens when the clocks jump (the first valid local minute after the start, if
    /// that is still before the end); a start that happens twice in a fall-back night opens at its first occurrence after
    /// <paramref name="at"/>. Looks at most <see cref="DaysAhead"/> days ahead, so no input loops; with no opening found it
    /// answers <paramref name="at"/> (a window with days always has one).
    /// </summary>
    public DateTimeOffset NextOpening(DateTimeOffset at, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(zone);
        if (Contains(at, zone))
            return at;
        var localDate = TimeZoneInfo.ConvertTime(at, zone).Date;
        for (var d = 0; d <= DaysAhead; d++)
        {
            var date = localDate.AddDays(d);
            if (!Days.Contains(date.DayOfWeek))
                continue;
            if (FirstInstant(date, zone, at) is { } opening)
                return opening;
        }
        return at;
    }

    /// <summary>The first instant after <paramref name="after"/> on local <paramref name="date"/> that is inside the day's hours.</summary>
    private DateTimeOffset? FirstInstant(DateTime date, TimeZoneInfo zone, DateTimeOffset after)
    {
        var wall = DateTime.SpecifyKind(date + Start, DateTimeKind.Unspecified);
        var end = DateTime.SpecifyKind(date + End, DateTimeKind.Unspecified);
        for (var i = 0; i < MaxGapMinutes && zone.IsInvalidTime(wall); i++)
            wall = wall.AddMinutes(1);
        if (wall >= end || zone.IsInvalidTime(wall))
            return null;

        // A wall time passed twice (fall-back) has two instants: the earlier one that is still after `after`.
        var offsets = zone.IsAmbiguousTime(wall) ? zone.GetAmbiguousTimeOffsets(wall) : [zone.GetUtcOffset(wall)];
        foreach (var offset in offsets.OrderByDescending(o => o))
        {
            var candidate = new DateTimeOffset(wall, offset);
            if (candidate > after)
                return candidate;
        }
        return null;
    }

    /// <summary>The window as written in the file, e.g. <c>mon-fri 09:00-17:00</c> for logs and the preview.</summary>
    public override string ToString() =>
        string.Join(",", Days.Order().Select(d => SendWindowReader.DayNames[(int)d])) + " " +
        $"{Start.ToString(@"hh\:mm", CultureInfo.InvariantCulture)}-{(End == TimeSpan.FromDays(1) ? "24:00" : End.ToString(@"hh\:mm", CultureInfo.InvariantCulture))}";
}

/// <summary>A programme's <c>sendWindow</c> as written in <c>nurture.json</c>.</summary>
public sealed class SendWindowModel
{
    public List<string>? Days { get; set; }
    public string? Hours { get; set; }
}

/// <summary>
/// Reads <c>sendWindow</c> and <c>defaultTimeZone</c> of <c>nurture.json</c>, adding each problem (naming the programme) to the
/// reader's list rather than throwing, so every mistake of the file is reported at once.
/// </summary>
public static partial class SendWindowReader
{
    internal static readonly string[] DayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

    public static SendWindow? Parse(SendWindowModel? model, string programmeName, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (model is null)
            return null;
        var days = new HashSet<DayOfWeek>();
        if (model.Days is not { Count: > 0 })
            errors.Add($"{programmeName}: sendWindow.days is empty: list the days it may send, e.g. [\"mon\",\"tue\",\"wed\",\"thu\",\"fri\"].");
        foreach (var day in model.Days ?? [])
        {
            var key = day?.Trim().ToLowerInvariant() ?? "";
            var index = Array.FindIndex(DayNames, n => key.Length >= 3 && (key == n || FullDayName(n) == key));
            if (index < 0)
                errors.Add($"{programmeName}: sendWindow.days '{day}' is not a day (use mon, tue, wed, thu, fri, sat, sun).");
            else
                days.Add((DayOfWeek)index);
        }

        var hours = HoursPattern().Match(model.Hours?.Trim() ?? "");
        if (!hours.Success)
        {
            errors.Add($"{programmeName}: sendWindow.hours '{model.Hours}' must be \"HH:mm-HH:mm\" in 24-hour time, e.g. \"09:00-17:00\".");
            return null;
        }
        var start = Time(hours.Groups[1].Value, hours.Groups[2].Value);
        var end = Time(hours.Groups[3].Value, hours.Groups[4].Value);
        if (start is null || end is null || end > TimeSpan.FromDays(1) || start >= TimeSpan.FromDays(1))
        {
            errors.Add($"{programmeName}: sendWindow.hours '{model.Hours}' has a time that does not exist (hours 00-23, minutes 00-59; the end may be 24:00).");
            return null;
        }
        if (start >= end)
        {
            errors.Add($"{programmeName}: sendWindow.hours '{model.Hours}' must start before it ends (a window cannot cross midnight; use 00:00 or 24:00).");
            return null;
        }
        return days.Count == 0 ? null : new SendWindow(days, start.Value, end.Value);
    }

    /// <summary>The file's <c>defaultTimeZone</c>: null when absent; an IANA id this machine's time zone data knows, else an error.</summary>
    public static TimeZoneInfo? ParseTimeZone(string? id, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (id is null)
            return null;
        if (LeadTimeZones.TryFind(id, out var zone))
            return zone;
        errors.Add($"defaultTimeZone '{id}' is not an IANA time zone id known to this machine (e.g. \"Europe/London\", \"America/New_York\", \"UTC\").");
        return null;
    }

    private static string FullDayName(string shortName) => shortName switch
    {
        "sun" => "sunday", "mon" => "monday", "tue" => "tuesday", "wed" => "wednesday",
        "thu" => "thursday", "fri" => "friday", _ => "saturday",
    };

    private static TimeSpan? Time(string hours, string minutes)
    {
        var h = int.Parse(hours, CultureInfo.InvariantCulture);
        var m = int.Parse(minutes, CultureInfo.InvariantCulture);
        if (h > 24 || m > 59 || (h == 24 && m != 0))
            return null;
        return new TimeSpan(h, m, 0);
    }

    [GeneratedRegex(@"^(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})$")]
    private static partial Regex HoursPattern();
}

/// <summary>The runner's question after the planner said "go": may this marketing step go now, or when does its window open?</summary>
public static class SendWindowGate
{
    /// <summary>Null when the programme has no window or <paramref name="now"/> is inside it; else a reschedule to the next opening.</summary>
    public static FollowUpDecision? Hold(NurtureProgramme programme, IReadOnlyDictionary<string, string> profile, TimeZoneInfo? defaultZone, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(programme);
        if (programme.Window is not { } window)
            return null;
        var (zone, source) = LeadTimeZones.Resolve(profile, defaultZone);
        var opening = window.NextOpening(now, zone);
        return opening > now
            ? FollowUpDecision.WaitUntil($"outside the send window {window} ({zone.Id}, from {source.ToString().ToLowerInvariant()})", opening)
            : null;
    }
}
