// ACS e-mail delivery reports to the app: an Event Grid system topic on the Communication Services resource and a webhook
// subscription to POST /api/email/delivery-reports. Keyless: no ACS or storage keys are involved; the only secret is the
// webhook's own shared secret, kept in Key Vault by modules/keyvault.bicep (the app reads it through a Key Vault reference) and sent by Event Grid
// in the endpoint URL, where the app compares it in constant time.

@description('Tags applied to the system topic.')
param tags object

@description('Name of the existing Communication Services resource (in this resource group) whose e-mail events are delivered.')
param communicationServiceName string

@description('Name of the Event Grid system topic created on the Communication Services resource.')
param systemTopicName string

@description('Name of the event subscription that delivers the reports to the function app.')
param subscriptionName string = 'email-delivery-reports'

@secure()
@description('The webhook URL with the secret: <app url>/api/email/delivery-reports?secret=<webhookSecret>. Secure because it carries the secret; composed by the caller because Bicep has no secure variables.')
param webhookEndpointUrl string

@description('Create the event subscription. Event Grid validates a webhook when the subscription is created, so this must be false until the app code is deployed (first azd up), then true (azd provision again).')
param createSubscription bool = false

@description('Most events Event Grid puts in one delivery; the app accepts up to 5,000 and 1 MB.')
@minValue(1)
@maxValue(5000)
param maxEventsPerBatch int = 10

@description('Preferred size of one delivery in KB.')
@minValue(1)
@maxValue(1024)
param preferredBatchSizeInKilobytes int = 64

@description('How many times Event Grid tries one delivery (the app answers 503 while storage is unavailable).')
@minValue(1)
@maxValue(30)
param maxDeliveryAttempts int = 30

@description('Minutes Event Grid keeps retrying an undelivered report before dropping it.')
@minValue(1)
@maxValue(1440)
param eventTimeToLiveInMinutes int = 1440

resource communicationService 'Microsoft.Communication/communicationServices@2025-05-01' existing = {
  name: communicationServiceName
}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: systemTopicName
  // Communication Services resources are global, and so is their system topic.
  location: 'global'
  tags: tags
  properties: {
    source: communicationService.id
    topicType: 'Microsoft.Communication.CommunicationServices'
  }
}

resource subscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = if (createSubscription) {
  parent: systemTopic
  name: subscriptionName
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: webhookEndpointUrl
        maxEventsPerBatch: maxEventsPerBatch
        preferredBatchSizeInKilobytes: preferredBatchSizeInKilobytes
      }
    }
    // The app answers both handshakes; the Event Grid schema is the one its tests use.
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: [
        'Microsoft.Communication.EmailDeliveryReportReceived'
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: maxDeliveryAttempts
      eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
    }
  }
}

output systemTopicName string = systemTopic.name
