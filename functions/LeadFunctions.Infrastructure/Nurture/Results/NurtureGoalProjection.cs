using System.Globalization;
using Azure.Data.Tables;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Leads;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Nurture.Results;

/// <summary>
/// Counts a lead's move from MQL to SQL as a goal of every nurture step sent to the lead within
/// <c>NurtureResults:GoalWindowDays</c> before it. Runs as a lead projection: after the lead's commit, again on a redelivery, until
/// it is done, so a goal is never lost; each message's marker makes it count once however often it runs.
/// </summary>
internal sealed class NurtureGoalProjection(NurtureResults results, NurtureTables nurture, IOptions<NurtureResultsOptions> options) : ILeadProjection
{
    /// <summary>
    /// A lead has one e-mail record per step it was sent (and a few confirmations and alerts), so the window holds a handful;
    /// the read stops here whatever happens.
    /// </summary>
    public const int MaxEmailsInWindow = 200;

    public async Task ProjectAsync(LeadProjectionWork work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        foreach (var transition in work.Transitions.Where(t => t.From == LifecycleStage.Mql && t.To == LifecycleStage.Sql))
        {
            foreach (var email in await SentBeforeAsync(work.LeadId, transition.At, cancellationToken))
                await results.CountAsync(work.LeadId, email, goal: true, cancellationToken);
        }
    }

    /// <summary>The lead's e-mail records sent in [<paramref name="sqlAt"/> − window, <paramref name="sqlAt"/>]: one range read, newest first.</summary>
    private async Task<List<LeadEmailEntity>> SentBeforeAsync(string leadId, DateTimeOffset sqlAt, CancellationToken cancellationToken)
    {
        var from = sqlAt - TimeSpan.FromDays(options.Value.GoalWindowDays);
        // Rows are keyed by inverted send ticks: the later send has the smaller key.
        var lower = LeadEmailEntity.Prefix + Inverted(sqlAt);
        var upper = LeadEmailEntity.Prefix + Inverted(from) + "}";
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {leadId} and RowKey ge {lower} and RowKey lt {upper}");
        var emails = new List<LeadEmailEntity>();
        await foreach (var row in nurture.State.QueryAsync<LeadEmailEntity>(filter, maxPerPage: MaxEmailsInWindow, cancellationToken: cancellationToken))
        {
            if (row.SentAt >= from && row.SentAt <= sqlAt)
                emails.Add(row);
            if (emails.Count == MaxEmailsInWindow)
                break;
        }
        return emails;
    }

    private static string Inverted(DateTimeOffset at) =>
        (DateTimeOffset.MaxValue.UtcTicks - Math.Clamp(at.UtcTicks, 0, DateTimeOffset.MaxValue.UtcTicks)).ToString("D19", CultureInfo.InvariantCulture);
}
