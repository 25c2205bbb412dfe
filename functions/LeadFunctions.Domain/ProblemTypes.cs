namespace LeadFunctions.Domain;

/// <summary>
/// The <c>type</c> of every RFC 7807 problem the app answers with is this prefix and a stable code (<c>invalid-fields</c>,
/// <c>not-signed-in</c>, …). Clients and tests match on it, so it is defined here once, where every project can reach it.
/// </summary>
public static class ProblemTypes
{
    public const string Prefix = "urn:leadfunctions:problem:";

    /// <summary>The problem type for <paramref name="code"/>.</summary>
    public static string Of(string code) => Prefix + code;
}
