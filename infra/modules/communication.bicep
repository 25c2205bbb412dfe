// Azure Communication Services e-mail: an Email Communication Service with a free Azure-managed domain
// (<guid>.azurecomm.net, no DNS to verify), linked to a Communication Services resource the app sends through.

@description('Tags applied to every resource in this module.')
param tags object

@description('Name of the Email Communication Service.')
param emailServiceName string

@description('Name of the Communication Services resource.')
param communicationServiceName string

@description('Where ACS stores e-mail data at rest (a data geography such as Europe or United States, not a region).')
param dataLocation string

resource emailService 'Microsoft.Communication/emailServices@2025-05-01' = {
  name: emailServiceName
  // Communication resources are global; dataLocation is what pins data residency.
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
  }
}

resource managedDomain 'Microsoft.Communication/emailServices/domains@2025-05-01' = {
  parent: emailService
  name: 'AzureManagedDomain'
  location: 'global'
  tags: tags
  properties: {
    domainManagement: 'AzureManaged'
    // The pipeline does its own, bot-aware open/click tracking with signed links; ACS tracking would double count.
    userEngagementTracking: 'Disabled'
  }
}

resource communicationService 'Microsoft.Communication/communicationServices@2025-05-01' = {
  name: communicationServiceName
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
    linkedDomains: [
      managedDomain.id
    ]
    // No access keys: the app signs in with its managed identity.
    disableLocalAuth: true
  }
}

output communicationServiceName string = communicationService.name
output endpoint string = 'https://${communicationService.properties.hostName}'
// Azure-managed domains come with the DoNotReply sender username already provisioned.
output senderAddress string = 'DoNotReply@${managedDomain.properties.mailFromSenderDomain}'
