// LeadFunctions on Azure: `azd up` provisions this and deploys functions/LeadFunctions to it.
// Keyless throughout: storage, e-mail, telemetry and secrets are all reached with the app's managed identity.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; seeds the resource names and tags every resource with azd-env-name.')
param environmentName string

@minLength(1)
@description('Azure region for everything regional. It must offer the Flex Consumption plan (az functionapp list-flexconsumption-locations).')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@description('Resource group to create; empty means rg-<environmentName>.')
param resourceGroupName string = ''

@description('Where Azure Communication Services keeps e-mail data at rest (a data geography, e.g. Europe, United States, UK).')
param emailDataLocation string = 'Europe'

@description('NCRONTAB schedule (six fields, UTC) of the timer that sends nurture e-mails and sales alerts. Every minute keeps a sales alert within a minute of the SQL (43,200 runs a month).')
param nurtureSchedule string = '0 */1 * * * *'

@description('Your own sending domain for ACS (e.g. mail.example.com); empty sends from the free Azure-managed domain. See docs/email-delivery.md for the DNS records.')
param emailCustomDomain string = ''

@description('Set to true once ACS shows the custom domain (and its SPF and DKIM records) as verified: the domain is then linked and becomes the sender.')
param emailCustomDomainVerified bool = false

@description('E-mail address told about SQLs nobody accepted within the SLA (azd asks for it on the first azd up).')
@minLength(3)
param salesEscalationAddress string

@description('Most marketing (nurture) e-mails one lead receives in any 7 days.')
@minValue(1)
@maxValue(100)
param maxMarketingEmailsPerWeek int = 3

@description('Client-side e-mail ceiling per minute. New ACS resources allow about 30; raise both limits after a quota increase.')
param emailMaxPerMinute int = 30

@description('Client-side e-mail ceiling per hour. New ACS resources allow about 100.')
param emailMaxPerHour int = 100

@description('Most instances the app may scale out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory per instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Daily Log Analytics ingestion cap in GB (-1 for none).')
param logDailyQuotaGb int = 1

@secure()
@description('HMAC key for tracking and sales-action links. azd reads it back from Key Vault on every run so it stays stable; shorter than 32 characters (or empty) it is extended with a random seed.')
param trackingSigningKey string = ''

@secure()
@description('Random material used only to extend a missing or short trackingSigningKey. Never set it: the default is fresh on every deployment.')
param trackingSigningKeySeed string = '${newGuid()}${newGuid()}'

@description('Object id of the person or pipeline running azd (AZURE_PRINCIPAL_ID); it may read the signing key so azd can keep it across runs. Empty to skip.')
param principalId string = ''

@description('Type of principalId: User for a person, ServicePrincipal for a CI pipeline.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param principalType string = 'User'

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var functionAppName = 'func-${resourceToken}'
var identityName = 'id-${resourceToken}'
var storageAccountName = 'st${resourceToken}'
var applicationInsightsName = 'appi-${resourceToken}'
var keyVaultName = 'kv-${resourceToken}'
var communicationServiceName = 'acs-${resourceToken}'
var deploymentContainerName = 'app-package-${take(resourceToken, 7)}'
var signingKeySecretName = 'tracking-signing-key'
// Every queue the app touches: the trigger's queue and the poison queue the host moves failures to.
var queueNames = [
  'lead-events'
  'lead-events-poison'
]
// Every table the app registers (RequiredTable); Infra.Tests compares this list with the code.
var tableNames = [
  'Leads'
  'NurtureDue'
  'NurtureState'
]

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: empty(resourceGroupName) ? 'rg-${environmentName}' : resourceGroupName
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  scope: rg
  params: {
    location: location
    tags: tags
    name: identityName
  }
}

module monitoring 'modules/monitoring.bicep' = {
  scope: rg
  params: {
    location: location
    tags: tags
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: applicationInsightsName
    dailyQuotaGb: logDailyQuotaGb
  }
}

module storage 'modules/storage.bicep' = {
  scope: rg
  params: {
    location: location
    tags: tags
    name: storageAccountName
    deploymentContainerName: deploymentContainerName
    queueNames: queueNames
    tableNames: tableNames
  }
}

module communication 'modules/communication.bicep' = {
  scope: rg
  params: {
    tags: tags
    emailServiceName: 'ecs-${resourceToken}'
    communicationServiceName: communicationServiceName
    dataLocation: emailDataLocation
    customDomainName: emailCustomDomain
    customDomainVerified: emailCustomDomainVerified
  }
}

module keyVault 'modules/keyvault.bicep' = {
  scope: rg
  params: {
    location: location
    tags: tags
    name: keyVaultName
    signingKeySecretName: signingKeySecretName
    signingKeyValue: length(trackingSigningKey) >= 32 ? trackingSigningKey : '${trackingSigningKey}${trackingSigningKeySeed}'
    readerPrincipalId: principalId
    readerPrincipalType: principalType
  }
}

module rbac 'modules/rbac.bicep' = {
  scope: rg
  params: {
    identityName: identityName
    storageAccountName: storageAccountName
    applicationInsightsName: applicationInsightsName
    keyVaultName: keyVaultName
    communicationServiceName: communicationServiceName
  }
  // Names are known up front (so What-If can predict the assignments); the resources must exist first.
  dependsOn: [
    identity
    storage
    monitoring
    keyVault
    communication
  ]
}

module functionApp 'modules/functionapp.bicep' = {
  scope: rg
  params: {
    location: location
    tags: tags
    planName: 'plan-${resourceToken}'
    name: functionAppName
    azdServiceName: 'functions'
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    blobEndpoint: storage.outputs.blobEndpoint
    queueEndpoint: storage.outputs.queueEndpoint
    tableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: deploymentContainerName
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    communicationEndpoint: communication.outputs.endpoint
    emailFromAddress: communication.outputs.senderAddress
    trackingSigningKeyReference: keyVault.outputs.signingKeyReference
    nurtureSchedule: nurtureSchedule
    maxMarketingEmailsPerWeek: maxMarketingEmailsPerWeek
    salesEscalationAddress: salesEscalationAddress
    emailMaxPerMinute: emailMaxPerMinute
    emailMaxPerHour: emailMaxPerHour
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
  }
  // The host reaches storage with the identity on its first start, so its roles must exist before the app does.
  dependsOn: [
    rbac
  ]
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_URL string = functionApp.outputs.url
output SERVICE_FUNCTIONS_NAME string = functionApp.outputs.name
output SERVICE_FUNCTIONS_ENDPOINT_URL string = functionApp.outputs.url
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_COMMUNICATION_SERVICE_NAME string = communication.outputs.communicationServiceName
output AZURE_COMMUNICATION_ENDPOINT string = communication.outputs.endpoint
output EMAIL_FROM_ADDRESS string = communication.outputs.senderAddress
output EMAIL_CUSTOM_DOMAIN_RECORDS object = communication.outputs.customDomainRecords
output AZURE_APPLICATION_INSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output AZURE_MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
