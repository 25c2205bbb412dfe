// Azure Communication Services e-mail: an Email Communication Service with a free Azure-managed domain
// (<guid>.azurecomm.net, no DNS to verify), linked to a Communication Services resource the app sends through.
// Optionally your own domain (CustomerManaged): created on the first deployment so ACS hands out its DNS records, and linked
// (and used as the sender) only once you have published them and ACS shows the domain as verified (customDomainVerified).

@description('Tags applied to every resource in this module.')
param tags object

@description('Name of the Email Communication Service.')
param emailServiceName string

@description('Name of the Communication Services resource.')
param communicationServiceName string

@description('Where ACS stores e-mail data at rest (a data geography such as Europe or United States, not a region).')
param dataLocation string

@description('Your sending domain, e.g. mail.example.com (a subdomain keeps its reputation apart from your people\'s mail); empty for none.')
param customDomainName string = ''

@description('True once the custom domain\'s Domain, SPF, DKIM and DKIM2 records show as verified in ACS; only then is it linked and used.')
param customDomainVerified bool = false

@description('Sender username on the custom domain (the part before the @).')
param customSenderUsername string = 'noreply'

var useCustomDomain = !empty(customDomainName)
var sendFromCustomDomain = useCustomDomain && customDomainVerified

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

resource customDomain 'Microsoft.Communication/emailServices/domains@2025-05-01' = if (useCustomDomain) {
  parent: emailService
  name: useCustomDomain ? customDomainName : 'unused'
  location: 'global'
  tags: tags
  properties: {
    domainManagement: 'CustomerManaged'
    userEngagementTracking: 'Disabled'
  }
}

resource customSender 'Microsoft.Communication/emailServices/domains/senderUsernames@2025-05-01' = if (sendFromCustomDomain) {
  parent: customDomain
  name: customSenderUsername
  properties: {
    username: customSenderUsername
    displayName: 'LeadFunctions'
  }
}

resource communicationService 'Microsoft.Communication/communicationServices@2025-05-01' = {
  name: communicationServiceName
  location: 'global'
  tags: tags
  properties: {
    dataLocation: dataLocation
    // ACS refuses to link a domain that is not verified yet, so the custom domain joins only after verification.
    linkedDomains: sendFromCustomDomain ? [managedDomain.id, customDomain.id] : [managedDomain.id]
    // No access keys: the app signs in with its managed identity.
    disableLocalAuth: true
  }
}

output communicationServiceName string = communicationService.name
output endpoint string = 'https://${communicationService.properties.hostName}'
// Azure-managed domains come with the DoNotReply sender username already provisioned.
output senderAddress string = sendFromCustomDomain
  ? '${customSenderUsername}@${customDomain!.properties.mailFromSenderDomain}'
  : 'DoNotReply@${managedDomain.properties.mailFromSenderDomain}'
// The DNS records to publish for the custom domain (Domain, SPF, DKIM, DKIM2, and DMARC when ACS suggests one): type, name, value, ttl.
output customDomainRecords object = useCustomDomain ? customDomain!.properties.verificationRecords : {}
