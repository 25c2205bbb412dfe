using LeadFunctions.Domain.Events;
using LeadFunctions.Infrastructure.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace LeadFunctions.Tests.Support;

[Collection(AzuriteCollection.Name)]
public sealed class QueuePublisherTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_published_event_is_one_base64_json_message_on_the_queue()
    {
        // Arrange
        var queue = azurite.Queue(AzuriteFixture.UniqueName("events"));
        await queue.CreateAsync();
        var publisher = new QueueLeadEventPublisher(new LeadEventsQueue(queue), NullLogger<QueueLeadEventPublisher>.Instance);
        var leadEvent = new LeadEvent { EventId = "e-1", Type = LeadEventTypes.PageView, OccurredAt = DateTimeOffset.UnixEpoch, VisitorId = "v-1" };

        // Act
        await publisher.PublishAsync(leadEvent, CancellationToken.None);

        // Assert
        var messages = (await queue.ReceiveMessagesAsync(maxMessages: 32)).Value;
        var message = Assert.Single(messages);
        Assert.Equal(leadEvent, LeadEventJson.Deserialize(message.Body.ToString()) with { Profile = leadEvent.Profile, Properties = leadEvent.Properties, Consents = leadEvent.Consents });
    }

    [Fact]
    public async Task A_queue_that_cannot_be_reached_fails_the_publish_instead_of_pretending()
    {
        // Arrange: a queue that was never created answers 404.
        var queue = azurite.Queue(AzuriteFixture.UniqueName("missing"));
        var publisher = new QueueLeadEventPublisher(new LeadEventsQueue(queue), NullLogger<QueueLeadEventPublisher>.Instance);
        var leadEvent = new LeadEvent { EventId = "e-2", Type = LeadEventTypes.PageView, OccurredAt = DateTimeOffset.UnixEpoch, VisitorId = "v-1" };

        // Act + Assert
        await Assert.ThrowsAsync<LeadEventNotAcceptedException>(() => publisher.PublishAsync(leadEvent, CancellationToken.None));
    }
}
