using Azure.Storage.Queues.Models;
using LeadFunctions.Domain.Events;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Storage;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace LeadFunctions.Scoring;

/// <summary>
/// Brings a lead up to date with each message on <c>lead-events</c>. Exceptions propagate on purpose: the runtime retries
/// the message and, after host.json's <c>maxDequeueCount</c>, moves it to <c>lead-events-poison</c>, where it is kept
/// until replayed (<c>POST /api/ops/poison/lead-events/replay</c>).
/// </summary>
public sealed partial class RescoreLead(LeadEventProcessor processor, ILogger<RescoreLead> logger)
{
    [Function(nameof(RescoreLead))]
    public async Task Run(
        [QueueTrigger(StorageOptions.LeadEventsQueue, Connection = StorageOptions.ConnectionName)] QueueMessage message,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        try
        {
            await processor.ProcessMessageAsync(message.Body.ToString(), cancellationToken);
        }
        catch (MalformedLeadEventException ex)
        {
            // Never dropped: rethrown so it is retried and then kept in the poison queue for a person to look at.
            LogMalformed(logger, message.MessageId, message.DequeueCount, ex.Message);
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Malformed lead event message {MessageId} (delivery {DequeueCount}): {Problem}")]
    private static partial void LogMalformed(ILogger logger, string messageId, long dequeueCount, string problem);
}
