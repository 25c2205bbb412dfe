namespace LeadFunctions.Domain.Leads;

/// <summary>Where a contact stands. The order is the usual direction of travel, but moves go both ways.</summary>
public enum LifecycleStage
{
    Subscriber = 1,
    Lead = 2,
    Mql = 3,
    Sql = 4,
    Opportunity = 5,
    Customer = 6,
    Evangelist = 7,
}

public static class LifecycleStageExtensions
{
    /// <summary>Stages sales sets by hand; decay and scoring never undo them.</summary>
    public static bool IsOwnedBySales(this LifecycleStage stage) => stage >= LifecycleStage.Opportunity;
}
