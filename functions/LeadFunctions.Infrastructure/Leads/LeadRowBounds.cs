using System.Reflection;
using LeadFunctions.Domain.Scoring;

namespace LeadFunctions.Infrastructure.Leads;

/// <summary>
/// Keeps everything stored on the lead row bounded, so no sequence of requests can push a write past a Table Storage
/// limit (64 KiB per string property, 1 MiB per entity) and break the lead for good.
/// <para>
/// Two layers. First, every list has a keep rule, applied on every write (<see cref="Apply"/>): linked visitors keep
/// the most recently used, consents the newest (always the newest per purpose), caps only the capped rules of the current
/// model, the profile a bounded number of bounded fields (fit fields first), fit factors bounded values. Second, a guard
/// (<see cref="ToEntity"/>) measures the serialised row: any string property at or over
/// <see cref="MaxStringLength"/>, or the row over <see cref="MaxEntityBytes"/>, is shrunk by the same rules, harder, until
/// it fits. A string property without a rule cannot be shrunk and fails loudly, naming itself: add its rule here.
/// </para>
/// </summary>
internal static class LeadRowBounds
{
    /// <summary>Table Storage holds 64 KiB per string property, i.e. 32,768 UTF-16 units; kept below with room to spare.</summary>
    public const int MaxStringLength = 30_000;

    /// <summary>Table Storage holds 1 MiB per entity; kept below with room for the system properties.</summary>
    public const int MaxEntityBytes = 960 * 1024;

    /// <summary>A safety net over the consent list (the engine has its own rule for which consents it keeps).</summary>
    public const int MaxConsents = 100;

    public const int MaxProfileFields = 64;

    /// <summary>Above any form field's <c>maxLength</c> (multiline fields take 2,000).</summary>
    public const int MaxProfileValueLength = 4_000;

    public const int MaxFitFactorValueLength = 500;

    /// <summary>Ledger notes and stage-change reasons: text from rules, bots and sales reps.</summary>
    public const int MaxNoteLength = 2_000;

    private const int MaxShrinkRounds = 40;

    /// <summary>The keep rule of every list on the lead row.</summary>
    public static void Apply(LeadScoreState state, ScoringModel model, int maxLinkedVisitors)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(model);

        if (state.LinkedVisitors.Count > maxLinkedVisitors)
            state.LinkedVisitors.RemoveRange(0, state.LinkedVisitors.Count - maxLinkedVisitors);

        // Counters of rules the model no longer caps count nothing; keeping them would grow the row with every model change.
        var capped = model.EngagementRules.Where(r => r.Cap is not null).Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        // Counters of named scores' capped rules are kept too (rule ids are unique across the model).
        foreach (var score in model.Scores)
            capped.UnionWith(score.Rules.Where(r => r.Cap is not null).Select(r => r.Id));
        foreach (var ruleId in state.Caps.Keys.Where(k => !capped.Contains(k)).ToList())
            state.Caps.Remove(ruleId);

        // Only the model's named scores are kept (at most ScoringModelLoader.MaxNamedScores), each decaying with its half-life now.
        foreach (var name in state.Scores.Keys.ToList())
        {
            if (model.Score(name) is { } defined)
                state.Scores[name].HalfLifeSeconds = defined.HalfLife.TotalSeconds;
            else
                state.Scores.Remove(name);
        }

        KeepConsents(state, MaxConsents);
        BoundProfile(state, model, MaxProfileFields, MaxProfileValueLength);

        for (var i = 0; i < state.FitFactors.Count; i++)
        {
            var factor = state.FitFactors[i];
            if (factor.Value.Length > MaxFitFactorValueLength)
                state.FitFactors[i] = factor with { Value = Truncate(factor.Value, MaxFitFactorValueLength) };
        }
    }

    /// <summary>The lead row for <paramref name="state"/>, shrunk by the keep rules until every limit holds.</summary>
    public static LeadEntity ToEntity(LeadScoreState state, ScoringModel model, int maxLinkedVisitors, Azure.ETag etag)
    {
        Apply(state, model, maxLinkedVisitors);
        for (var round = 0; ; round++)
        {
            var entity = LeadMapping.ToEntity(state, model.HalfLife, etag);
            var oversized = StringProperties.Where(p => (((string?)p.GetValue(entity))?.Length ?? 0) >= MaxStringLength).ToList();
            var bytes = EstimatedBytes(entity);
            if (oversized.Count == 0 && bytes <= MaxEntityBytes)
                return entity;
            if (round >= MaxShrinkRounds)
                throw new InvalidOperationException($"Lead {state.LeadId}: the lead row does not fit Table Storage after {round} rounds of trimming ({bytes} bytes).");
            if (oversized.Count == 0)
                oversized.Add(StringProperties.MaxBy(p => ((string?)p.GetValue(entity))?.Length ?? 0)!);
            foreach (var property in oversized)
                Shrink(state, model, property.Name);
        }
    }

    /// <summary>Text kept on ledger and history rows.</summary>
    public static string? BoundNote(string? value) => value is null ? null : Truncate(value, MaxNoteLength);

    /// <summary>The size Table Storage counts: system keys, and per property its name, its type tag and its value.</summary>
    public static long EstimatedBytes(LeadEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        long bytes = 4 + 2 * (entity.PartitionKey.Length + entity.RowKey.Length) + 8;
        foreach (var property in DataProperties)
        {
            bytes += 8 + 2 * property.Name.Length;
            bytes += property.GetValue(entity) switch
            {
                string s => 4 + 2L * s.Length,
                bool => 1,
                int => 4,
                _ => 8,
            };
        }
        return bytes;
    }

    /// <summary>String properties of the lead row that have a shrink rule; the guard tests check every string property is here.</summary>
    internal static readonly IReadOnlySet<string> Shrinkable = new HashSet<string>(StringComparer.Ordinal)
    {
        nameof(LeadEntity.ProfileJson), nameof(LeadEntity.ConsentsJson), nameof(LeadEntity.FitFactorsJson),
        nameof(LeadEntity.CapsJson), nameof(LeadEntity.LinkedVisitorsJson),
    };

    /// <summary>String properties bounded where they come from (normalised addresses, enum names, the model version).</summary>
    internal static readonly IReadOnlySet<string> BoundedAtSource = new HashSet<string>(StringComparer.Ordinal)
    {
        nameof(LeadEntity.PartitionKey), nameof(LeadEntity.RowKey), nameof(LeadEntity.Email), nameof(LeadEntity.Stage),
        nameof(LeadEntity.FitGrade), nameof(LeadEntity.ModelVersion), nameof(LeadEntity.Owner),
        // The model's named scores only (Apply drops the others): at most 10 names of at most 32 characters, five numbers each.
        nameof(LeadEntity.ScoresJson),
        // A model version (published ones are at most 100 characters) or "mixed"; set after the size check, well inside its headroom.
        nameof(LeadEntity.PointsModelVersion),
        nameof(LeadEntity.OriginForm), nameof(LeadEntity.OriginIntent),
    };

    private static readonly PropertyInfo[] DataProperties = typeof(LeadEntity)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.Name is not (nameof(LeadEntity.PartitionKey) or nameof(LeadEntity.RowKey) or nameof(LeadEntity.Timestamp) or nameof(LeadEntity.ETag)))
        .ToArray();

    internal static readonly PropertyInfo[] StringProperties = typeof(LeadEntity)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.PropertyType == typeof(string))
        .ToArray();

    private static void Shrink(LeadScoreState state, ScoringModel model, string property)
    {
        switch (property)
        {
            case nameof(LeadEntity.LinkedVisitorsJson):
                state.LinkedVisitors.RemoveRange(0, (state.LinkedVisitors.Count + 1) / 2);
                break;
            case nameof(LeadEntity.ConsentsJson):
                KeepConsents(state, state.Consents.Count / 2);
                break;
            case nameof(LeadEntity.CapsJson):
                foreach (var ruleId in state.Caps.OrderBy(c => c.Value.Period).Take((state.Caps.Count + 1) / 2).Select(c => c.Key).ToList())
                    state.Caps.Remove(ruleId);
                break;
            case nameof(LeadEntity.ProfileJson):
                var longest = state.Profile.Count == 0 ? 0 : state.Profile.Values.Max(v => v.Length);
                BoundProfile(state, model, Math.Max(1, state.Profile.Count / 2), Math.Max(1, longest / 2));
                break;
            case nameof(LeadEntity.FitFactorsJson):
                var longestValue = state.FitFactors.Count == 0 ? 0 : state.FitFactors.Max(f => f.Value.Length);
                if (longestValue > 16)
                {
                    for (var i = 0; i < state.FitFactors.Count; i++)
                        state.FitFactors[i] = state.FitFactors[i] with { Value = Truncate(state.FitFactors[i].Value, longestValue / 2) };
                }
                else
                {
                    state.FitFactors.RemoveRange(state.FitFactors.Count / 2, state.FitFactors.Count - state.FitFactors.Count / 2);
                }
                break;
            default:
                throw new InvalidOperationException($"Lead {state.LeadId}: {property} is over the Table Storage limit and has no rule to shrink it; add one to {nameof(LeadRowBounds)}.");
        }
    }

    /// <summary>Keeps at most <paramref name="max"/> consents: the newest of each purpose first, then the newest others, in their order.</summary>
    private static void KeepConsents(LeadScoreState state, int max)
    {
        if (state.Consents.Count <= max)
            return;
        var newestFirst = state.Consents.Select((c, i) => (Consent: c, Index: i)).OrderByDescending(c => c.Consent.At).ThenByDescending(c => c.Index).ToList();
        var keep = new HashSet<int>();
        foreach (var latest in newestFirst.GroupBy(c => c.Consent.Purpose, StringComparer.Ordinal).Select(g => g.First()))
            keep.Add(latest.Index);
        foreach (var (_, index) in newestFirst)
        {
            if (keep.Count >= Math.Max(max, 1))
                break;
            keep.Add(index);
        }
        var kept = state.Consents.Where((_, i) => keep.Contains(i)).ToList();
        state.Consents.Clear();
        state.Consents.AddRange(kept);
    }

    /// <summary>At most <paramref name="maxFields"/> fields of at most <paramref name="maxLength"/> characters; fields fit rules read are kept first.</summary>
    private static void BoundProfile(LeadScoreState state, ScoringModel model, int maxFields, int maxLength)
    {
        foreach (var (key, value) in state.Profile.ToList())
        {
            if (value.Length > maxLength)
                state.Profile[key] = Truncate(value, maxLength);
        }
        if (state.Profile.Count <= maxFields)
            return;
        var fitFields = model.FitRules.Select(r => r.Field).ToHashSet(StringComparer.Ordinal);
        var keep = state.Profile.Keys
            .OrderBy(k => fitFields.Contains(k) ? 0 : 1)
            .ThenBy(k => k, StringComparer.Ordinal)
            .Take(maxFields)
            .ToHashSet(StringComparer.Ordinal);
        foreach (var key in state.Profile.Keys.Where(k => !keep.Contains(k)).ToList())
            state.Profile.Remove(key);
    }

    /// <summary>Cuts at a character boundary, never between the halves of a surrogate pair.</summary>
    private static string Truncate(string value, int max)
    {
        if (value.Length <= max)
            return value;
        var cut = max > 0 && char.IsHighSurrogate(value[max - 1]) ? max - 1 : max;
        return value[..cut];
    }
}
