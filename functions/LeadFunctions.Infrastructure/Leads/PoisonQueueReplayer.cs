using Azure.Storage.Queues;
using LeadFunctions.Infrastructure.Storage;
using Microsoft.Extensions.Logging;

namespace LeadFunctions.Infrastructure.Leads;

/// <summary>
/// Moves every message from <c>lead-events-poison</c> back to <c>lead-events</c>, the command to run once the cause of
/// the failures is fixed. Each message is sent before it is deleted, so a crash midway duplicates at worst (which the
/// processor absorbs: an event is applied once) and never loses one.
/// </summary>
public sealed partial class PoisonQueueReplayer(QueueServiceClient queues, LeadEventsQueue target, ILogger<PoisonQueueReplayer> logger)
{
    public const string PoisonQueueName = StorageOptions.LeadEventsQueue + "-poison";

    public async Task<int> ReplayAsync(CancellationToken cancellationToken)
    {
        // The runtime's naming: the poison queue of "q" is "q-poison".
        var poison = queues.GetQueueClient(target.Client.Name + "-poison");
        var moved = 0;
        while (true)
        {
            // Invisible long enough to send and delete; a message we fail on reappears for the next run.
            var received = await poison.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(2), cancellationToken);
            if (received.Value.Length == 0)
                break;
            foreach (var message in received.Value)
            {
                await target.Client.SendMessageAsync(message.Body, cancellationToken: cancellationToken);
                await poison.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
                moved++;
                LogReplayed(logger, message.MessageId, message.DequeueCount);
            }
        }
        LogReplayDone(logger, moved);
        return moved;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Re-queued poison message {MessageId} (dequeued {DequeueCount} times) to lead-events")]
    private static partial void LogReplayed(ILogger logger, string messageId, long dequeueCount);

    [LoggerMessage(Level = LogLevel.Information, Message = "Poison replay moved {Count} message(s) back to lead-events")]
    private static partial void LogReplayDone(ILogger logger, int count);
}
