using Azure;
using LeadFunctions.Domain.Events;
using Microsoft.Extensions.Logging;

namespace LeadFunctions.Infrastructure.Storage;

/// <summary>Puts events on <c>lead-events</c> as Base64 JSON, the encoding the Functions queue trigger expects.</summary>
internal sealed partial class QueueLeadEventPublisher(LeadEventsQueue queue, ILogger<QueueLeadEventPublisher> logger) : ILeadEventPublisher
{
    public async Task PublishAsync(LeadEvent leadEvent, CancellationToken cancellationToken)
    {
        try
        {
            await queue.Client.SendMessageAsync(LeadEventJson.Serialize(leadEvent), cancellationToken);
        }
        catch (RequestFailedException ex)
        {
            LogEnqueueFailed(logger, ex, leadEvent.EventId, ex.Status);
            throw new LeadEventNotAcceptedException($"Event {leadEvent.EventId} could not be queued (storage answered {ex.Status}).", ex);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or IOException or AggregateException)
        {
            LogEnqueueFailed(logger, ex, leadEvent.EventId, 0);
            throw new LeadEventNotAcceptedException($"Event {leadEvent.EventId} could not be queued: storage is unreachable.", ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not enqueue event {EventId} (status {Status})")]
    private static partial void LogEnqueueFailed(ILogger logger, Exception exception, string eventId, int status);
}
