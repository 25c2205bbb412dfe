using System.Globalization;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using LeadFunctions.Domain.Configuration;
using LeadFunctions.Domain.Leads;

namespace LeadFunctions.Domain.SalesAlerts;

/// <summary>
/// One routing rule: leads whose profile field matches go to this rule's owners (round-robin among them when there are several).
/// A field matches when its value is one of <see cref="Values"/> (case-insensitive), or when it is a number or a band of
/// numbers that lies within <see cref="Min"/>..<see cref="Max"/>. Forms send bands (<c>201-1000</c>, <c>1001+</c>), so a band
/// matches only when all of it is in range: <c>1001+</c> meets <c>min 1000</c>, <c>201-1000</c> does not.
/// </summary>
public sealed partial record RoutingRule(string Id, string Field, IReadOnlyList<string> Values, double? Min, double? Max, IReadOnlyList<string> Owners)
{
    public bool Matches(IReadOnlyDictionary<string, string> profile)
    {
        var value = FieldValue(profile, Field);
        if (string.IsNullOrWhiteSpace(value))
            return false;
        value = value.Trim();
        if (Values.Count > 0 && Values.Any(v => string.Equals(v, value, StringComparison.OrdinalIgnoreCase)))
            return true;
        if ((Min is not null || Max is not null) && TryParseBand(value, out var low, out var high))
            return (Min is null || low >= Min) && (Max is null || high <= Max);
        return false;
    }

    /// <summary>Reads <c>5000</c>, <c>1001+</c> (no upper end) or <c>201-1000</c>; anything else is not numeric.</summary>
    public static bool TryParseBand(string value, out double low, out double high)
    {
        low = high = 0;
        var match = BandPattern().Match(value.Trim());
        if (!match.Success || !double.TryParse(match.Groups["low"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out low))
            return false;
        if (match.Groups["plus"].Success)
        {
            high = double.PositiveInfinity;
            return true;
        }
        if (!match.Groups["high"].Success)
        {
            high = low;
            return true;
        }
        return double.TryParse(match.Groups["high"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out high) && high >= low;
    }

    [GeneratedRegex(@"^(?<low>\d+(?:\.\d+)?)\s*(?:(?<plus>\+)|-\s*(?<high>\d+(?:\.\d+)?))?$")]
    private static partial Regex BandPattern();

    private static string? FieldValue(IReadOnlyDictionary<string, string> profile, string field)
    {
        if (profile.TryGetValue(field, out var exact))
            return exact;
        foreach (var (key, value) in profile)
        {
            if (string.Equals(key, field, StringComparison.OrdinalIgnoreCase))
                return value;
        }
        return null;
    }
}

/// <summary>Which pool of owners a lead goes to; <see cref="PoolId"/> keys the round-robin counter of that pool.</summary>
public sealed record RoutingDecision(string PoolId, IReadOnlyList<string> Owners, bool ByRule)
{
    public string Pick(long turn) => Owners[(int)(Math.Abs(turn) % Owners.Count)];
}

/// <summary>The routing table from <c>config/sales-routing.json</c>: rules in order, the first match wins, round-robin otherwise.</summary>
public sealed record SalesRouting(string Version, IReadOnlyList<RoutingRule> Rules, IReadOnlyList<string> RoundRobin)
{
    public const string RoundRobinPool = "round-robin";

    public RoutingDecision Route(LeadSummary lead)
    {
        foreach (var rule in Rules)
        {
            if (rule.Matches(lead.Profile))
                return new RoutingDecision("rule-" + rule.Id, rule.Owners, ByRule: true);
        }
        return new RoutingDecision(RoundRobinPool, RoundRobin, ByRule: false);
    }
}

public sealed class SalesRoutingException(IReadOnlyList<string> errors)
    : Exception("The sales routing configuration is not valid:" + Environment.NewLine + string.Join(Environment.NewLine, errors.Select(e => "  - " + e)))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

public static partial class SalesRoutingReader
{
    public static SalesRouting Parse(string json)
    {
        var model = ConfigurationJson.Read<FileModel>(json, "sales-routing.json", problems => new SalesRoutingException(problems));

        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(model.Version))
            errors.Add("version is missing.");
        var rules = new List<RoutingRule>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var sourceRules = model.Rules ?? [];
        for (var i = 0; i < sourceRules.Count; i++)
        {
            var rule = sourceRules[i];
            var name = string.IsNullOrWhiteSpace(rule.Id) ? $"rules[{i}]" : $"rule '{rule.Id}'";
            if (string.IsNullOrWhiteSpace(rule.Id) || !IdPattern().IsMatch(rule.Id))
                errors.Add($"{name}: id must be lower-case letters, digits and dashes.");
            else if (!ids.Add(rule.Id))
                errors.Add($"{name}: id is used twice.");
            if (string.IsNullOrWhiteSpace(rule.Field))
                errors.Add($"{name}: field is missing (a profile field such as \"country\" or \"companySize\").");
            var values = (rule.Values ?? []).Where(v => !string.IsNullOrWhiteSpace(v)).Select(v => v.Trim()).ToList();
            if (values.Count == 0 && rule.Min is null && rule.Max is null)
                errors.Add($"{name}: give values to match, or min/max for a numeric field.");
            if (rule.Min is not null && rule.Max is not null && rule.Min > rule.Max)
                errors.Add($"{name}: min {rule.Min} is greater than max {rule.Max}.");
            var owners = Owners(rule.Owners, rule.Owner);
            if (owners.Count == 0)
                errors.Add($"{name}: owner (or owners) is missing.");
            foreach (var owner in owners.Where(o => !EmailAddress.TryNormalize(o, out _)))
                errors.Add($"{name}: owner '{owner}' is not an e-mail address.");
            rules.Add(new RoutingRule(rule.Id ?? "", rule.Field ?? "", values, rule.Min, rule.Max, owners));
        }

        var roundRobin = Owners(model.RoundRobin, null);
        if (roundRobin.Count == 0)
            errors.Add("roundRobin is empty: list at least one owner for leads no rule matches.");
        foreach (var owner in roundRobin.Where(o => !EmailAddress.TryNormalize(o, out _)))
            errors.Add($"roundRobin: owner '{owner}' is not an e-mail address.");

        if (errors.Count > 0)
            throw new SalesRoutingException(errors);
        return new SalesRouting(model.Version!, rules, roundRobin);
    }

    private static List<string> Owners(List<string>? many, string? one) =>
        [.. (many ?? []).Append(one ?? "").Where(o => !string.IsNullOrWhiteSpace(o)).Select(o => o.Trim()).Distinct(StringComparer.OrdinalIgnoreCase)];

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")]
    private static partial Regex IdPattern();

    private sealed class FileModel
    {
        [JsonPropertyName("$schema")] public string? Schema { get; set; }
        public string? Version { get; set; }
        public List<RuleModel>? Rules { get; set; }
        public List<string>? RoundRobin { get; set; }
    }

    private sealed class RuleModel
    {
        public string? Id { get; set; }
        public string? Description { get; set; }
        public string? Field { get; set; }
        public List<string>? Values { get; set; }
        public double? Min { get; set; }
        public double? Max { get; set; }
        public string? Owner { get; set; }
        public List<string>? Owners { get; set; }
    }
}
