using LeadFunctions.Domain.Leads;

namespace LeadFunctions.Domain.Lifecycle;

/// <summary>The four things sales (or a CRM) can ask of a lead's stage.</summary>
public static class StageActions
{
    public const string Accept = "accept";
    public const string Reject = "reject";
    public const string Recycle = "recycle";
    public const string Advance = "advance";

    public static readonly IReadOnlyList<string> All = [Accept, Reject, Recycle, Advance];

    /// <summary>The action in its canonical spelling, or null when it is none of <see cref="All"/>.</summary>
    public static string? Parse(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        Accept => Accept,
        Reject => Reject,
        Recycle => Recycle,
        Advance => Advance,
        _ => null,
    };
}

/// <summary>Whose rules a move is judged by.</summary>
public enum MoveAuthority
{
    /// <summary>A person in the workspace or an alert link: one step at a time along the sales path.</summary>
    Person,

    /// <summary>
    /// The CRM, the system of record for deals: what it says happened to a deal did happen, so it may move a lead forward past
    /// stages we never saw (a deal won with no opportunity or SQL recorded here). It still never moves a lead backwards by an
    /// advance, and a lost deal never unmakes a customer (an upsell lost is not a churn).
    /// </summary>
    Crm,
}

/// <summary>
/// Every legal stage move by sales or a CRM, in one pure place: the stage endpoint and the CRM webhook ask it before they queue
/// an event, and the processor asks it again when the event is applied (the lead may have moved in between), recording an
/// illegal one as ignored rather than failing.
/// <code>
/// action   from (person)            from (CRM)                           to
/// accept   SQL                      (never)                              SQL (stays; stops the SLA clock)
/// reject   SQL                      (never)                              MQL or Lead
/// recycle  SQL, Opportunity         SQL, Opportunity                     MQL or Lead
/// advance  SQL                      Subscriber, Lead, MQL, SQL           Opportunity
/// advance  SQL, Opportunity         Subscriber … Opportunity             Customer
/// advance  Customer                 Customer                             Evangelist
/// </code>
/// </summary>
public static class StageMoves
{
    /// <summary>Null when <paramref name="action"/> may move a lead at <paramref name="current"/> to <paramref name="to"/>; otherwise why not.</summary>
    /// <param name="current">The lead's stage (null for a lead with none yet, which reads as Lead).</param>
    /// <param name="action">One of <see cref="StageActions"/>.</param>
    /// <param name="to">The target stage; for accept it may be omitted (SQL).</param>
    public static string? Check(LifecycleStage? current, string action, LifecycleStage? to, MoveAuthority authority = MoveAuthority.Person)
    {
        var from = current ?? LifecycleStage.Lead;
        var name = Name(from);
        switch (StageActions.Parse(action))
        {
            case StageActions.Accept:
                if (authority == MoveAuthority.Crm)
                    return "a CRM cannot accept a lead; acceptance is a person's decision.";
                if (to is not (null or LifecycleStage.Sql))
                    return $"accept keeps the lead an SQL; it cannot move it to {Name(to.Value)}.";
                return from == LifecycleStage.Sql ? null : $"only an SQL can be accepted; the lead is {name}.";

            case StageActions.Reject:
                if (authority == MoveAuthority.Crm)
                    return "a CRM cannot reject a lead; a lost deal is a recycle.";
                if (to is not (LifecycleStage.Mql or LifecycleStage.Lead))
                    return $"reject returns the lead to MQL or Lead, not {ToName(to)}.";
                return from == LifecycleStage.Sql ? null : $"only an SQL can be rejected; the lead is {name} (recycle a lead sales has worked).";

            case StageActions.Recycle:
                if (to is not (LifecycleStage.Mql or LifecycleStage.Lead))
                    return $"recycle returns the lead to MQL or Lead, not {ToName(to)}.";
                if (from is LifecycleStage.Sql or LifecycleStage.Opportunity)
                    return null;
                return from > LifecycleStage.Opportunity
                    ? $"a {name} is not recycled: a lost deal or a cold contact does not unmake a customer."
                    : $"only an SQL or an Opportunity can be recycled; the lead is {name} and already in nurture.";

            case StageActions.Advance:
                if (to is not (LifecycleStage.Opportunity or LifecycleStage.Customer or LifecycleStage.Evangelist))
                    return $"advance moves the lead to Opportunity, Customer or Evangelist, not {ToName(to)}.";
                if (from >= to)
                    return $"the lead is already {name}; advance only moves it forward.";
                return AdvanceFrom(from, to.Value, authority);

            default:
                return $"'{action}' is not an action (accept, reject, recycle or advance).";
        }
    }

    private static string? AdvanceFrom(LifecycleStage from, LifecycleStage to, MoveAuthority authority)
    {
        if (to == LifecycleStage.Evangelist)
            return from == LifecycleStage.Customer ? null : $"only a Customer can become an Evangelist; the lead is {Name(from)}.";
        if (authority == MoveAuthority.Crm)
            return null; // Opportunity or Customer from anything earlier: the CRM is the record of the deal.
        return to switch
        {
            LifecycleStage.Opportunity when from == LifecycleStage.Sql => null,
            // A deal can be won without an opportunity ever being opened: SQL -> Customer is one step.
            LifecycleStage.Customer when from is LifecycleStage.Sql or LifecycleStage.Opportunity => null,
            _ => $"only an SQL{(to == LifecycleStage.Customer ? " or an Opportunity" : "")} can be advanced to {Name(to)}; the lead is {Name(from)} (sales-qualify it first).",
        };
    }

    /// <summary>Reads a stage as the API and events spell it (case-insensitive); null for anything else.</summary>
    public static LifecycleStage? ParseStage(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "subscriber" => LifecycleStage.Subscriber,
        "lead" => LifecycleStage.Lead,
        "mql" => LifecycleStage.Mql,
        "sql" => LifecycleStage.Sql,
        "opportunity" => LifecycleStage.Opportunity,
        "customer" => LifecycleStage.Customer,
        "evangelist" => LifecycleStage.Evangelist,
        _ => null,
    };

    /// <summary>The stage as people read it: MQL, SQL, Opportunity…</summary>
    public static string Name(LifecycleStage stage) => stage switch
    {
        LifecycleStage.Mql => "MQL",
        LifecycleStage.Sql => "SQL",
        _ => stage.ToString(),
    };

    private static string ToName(LifecycleStage? stage) => stage is { } s ? Name(s) : "no stage";
}
