using Azure.Storage.Queues.Models;
using LeadFunctions.Infrastructure.Storage;
using LeadFunctions.Scoring;
using Microsoft.Azure.WebJobs;

namespace LeadFunctions.LocalHost.Triggers;

/// <summary>
/// Runs <see cref="RescoreLead"/> for each message on <c>lead-events</c> through the WebJobs queue listener, which retries
/// a failing message and moves it to <c>lead-events-poison</c> after host.json's <c>maxDequeueCount</c>, as in Azure.
/// </summary>
public sealed class RescoreLeadTrigger(RescoreLead function)
{
    [FunctionName(nameof(RescoreLead))]
    public Task Run([QueueTrigger(StorageOptions.LeadEventsQueue, Connection = StorageOptions.ConnectionName)] QueueMessage message, CancellationToken cancellationToken) =>
        function.Run(message, cancellationToken);
}
