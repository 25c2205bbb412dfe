namespace LeadFunctions.Domain.Scoring;

/// <summary>A fit rule the lead's profile meets: which field, what value, how many points.</summary>
public sealed record FitFactor(string RuleId, string Field, string Value, double Points);
