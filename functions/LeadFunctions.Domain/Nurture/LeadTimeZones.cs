using System.Collections.Frozen;
using System.Text.RegularExpressions;

namespace LeadFunctions.Domain.Nurture;

/// <summary>Where a lead's time zone came from, in the order they are tried.</summary>
public enum TimeZoneSource
{
    /// <summary>The profile field <c>timeZone</c>: given by a form, or by the browser through the tracking snippet.</summary>
    Profile,
    /// <summary>The profile field <c>country</c>, through <see cref="LeadTimeZones.ByCountry"/>.</summary>
    Country,
    /// <summary><c>defaultTimeZone</c> of <c>nurture.json</c>.</summary>
    Default,
    /// <summary>Nothing else known.</summary>
    Utc,
}

/// <summary>
/// The lead's time zone for send windows: its <c>timeZone</c> profile field when that is a valid IANA id, else its country's
/// (the most populous zone of a country that has several), else the file's default, else UTC. A bad value is ignored, never
/// an error: it came from a lead's form or browser, and the next source still gives a sensible answer.
/// </summary>
public static partial class LeadTimeZones
{
    public const string ProfileField = "timeZone";
    public const string CountryField = "country";

    /// <summary>The longest IANA id is 32 characters (America/Argentina/ComodRivadavia); this leaves room and bounds what is stored.</summary>
    public const int MaxLength = 64;

    /// <summary>
    /// Country (ISO 3166-1 alpha-2 code or common English name, any case) to IANA zone. A country with several zones takes its
    /// most populous one (United States: New York; Canada: Toronto; Australia: Sydney; Brazil: São Paulo; Russia: Moscow;
    /// Mexico: Mexico City; Indonesia: Jakarta). Countries not listed fall through to the default.
    /// </summary>
    public static readonly FrozenDictionary<string, string> ByCountry = BuildCountries();

    /// <summary>Letters, digits, <c>_ + -</c>, up to three <c>/</c>-separated parts: the shape of an IANA id (never a Windows name with spaces).</summary>
    public static bool IsWellFormed(string? id) => id is { Length: > 0 and <= MaxLength } && IdPattern().IsMatch(id);

    /// <summary>An IANA id this machine's time zone data knows (ICU/tzdata on Linux); Windows names are refused.</summary>
    public static bool TryFind(string? id, out TimeZoneInfo zone)
    {
        zone = TimeZoneInfo.Utc;
        if (!IsWellFormed(id))
            return false;
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(id!, out var found) || !found.HasIanaId)
            return false;
        zone = found;
        return true;
    }

    public static (TimeZoneInfo Zone, TimeZoneSource Source) Resolve(IReadOnlyDictionary<string, string> profile, TimeZoneInfo? defaultZone)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (profile.TryGetValue(ProfileField, out var id) && TryFind(id?.Trim(), out var own))
            return (own, TimeZoneSource.Profile);
        if (profile.TryGetValue(CountryField, out var country) && country is { Length: <= 60 } &&
            ByCountry.TryGetValue(country.Trim(), out var countryZone) && TryFind(countryZone, out var fromCountry))
            return (fromCountry, TimeZoneSource.Country);
        return defaultZone is null ? (TimeZoneInfo.Utc, TimeZoneSource.Utc) : (defaultZone, TimeZoneSource.Default);
    }

    private static FrozenDictionary<string, string> BuildCountries()
    {
        (string Zone, string[] Names)[] rows =
        [
            ("America/New_York", ["US", "USA", "United States", "United States of America"]),
            ("America/Toronto", ["CA", "Canada"]),
            ("America/Mexico_City", ["MX", "Mexico"]),
            ("America/Sao_Paulo", ["BR", "Brazil", "Brasil"]),
            ("America/Argentina/Buenos_Aires", ["AR", "Argentina"]),
            ("America/Bogota", ["CO", "Colombia"]),
            ("America/Santiago", ["CL", "Chile"]),
            ("America/Lima", ["PE", "Peru"]),
            ("Europe/London", ["GB", "UK", "United Kingdom", "Great Britain", "England", "Scotland", "Wales", "Northern Ireland"]),
            ("Europe/Dublin", ["IE", "Ireland"]),
            ("Europe/Lisbon", ["PT", "Portugal"]),
            ("Europe/Madrid", ["ES", "Spain"]),
            ("Europe/Paris", ["FR", "France"]),
            ("Europe/Brussels", ["BE", "Belgium"]),
            ("Europe/Amsterdam", ["NL", "Netherlands", "The Netherlands", "Holland"]),
            ("Europe/Luxembourg", ["LU", "Luxembourg"]),
            ("Europe/Berlin", ["DE", "Germany", "Deutschland"]),
            ("Europe/Zurich", ["CH", "Switzerland"]),
            ("Europe/Vienna", ["AT", "Austria"]),
            ("Europe/Rome", ["IT", "Italy"]),
            ("Europe/Copenhagen", ["DK", "Denmark"]),
            ("Europe/Oslo", ["NO", "Norway"]),
            ("Europe/Stockholm", ["SE", "Sweden"]),
            ("Europe/Helsinki", ["FI", "Finland"]),
            ("Europe/Warsaw", ["PL", "Poland"]),
            ("Europe/Prague", ["CZ", "Czechia", "Czech Republic"]),
            ("Europe/Budapest", ["HU", "Hungary"]),
            ("Europe/Bucharest", ["RO", "Romania"]),
            ("Europe/Athens", ["GR", "Greece"]),
            ("Europe/Istanbul", ["TR", "Turkey", "Türkiye"]),
            ("Europe/Kyiv", ["UA", "Ukraine"]),
            ("Europe/Moscow", ["RU", "Russia"]),
            ("Asia/Jerusalem", ["IL", "Israel"]),
            ("Asia/Dubai", ["AE", "United Arab Emirates", "UAE"]),
            ("Asia/Riyadh", ["SA", "Saudi Arabia"]),
            ("Asia/Kolkata", ["IN", "India"]),
            ("Asia/Singapore", ["SG", "Singapore"]),
            ("Asia/Jakarta", ["ID", "Indonesia"]),
            ("Asia/Shanghai", ["CN", "China"]),
            ("Asia/Hong_Kong", ["HK", "Hong Kong"]),
            ("Asia/Tokyo", ["JP", "Japan"]),
            ("Asia/Seoul", ["KR", "South Korea", "Korea"]),
            ("Australia/Sydney", ["AU", "Australia"]),
            ("Pacific/Auckland", ["NZ", "New Zealand"]),
            ("Africa/Johannesburg", ["ZA", "South Africa"]),
            ("Africa/Lagos", ["NG", "Nigeria"]),
            ("Africa/Cairo", ["EG", "Egypt"]),
        ];
        var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (zone, names) in rows)
        {
            foreach (var name in names)
                map[name] = zone;
        }
        return map.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+){0,2}$")]
    private static partial Regex IdPattern();
}
