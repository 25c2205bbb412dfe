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

@description('Region of the Static Web App that hosts the sample landing page (the resource only exists in a few regions; the page is served from a global edge).')
@allowed([
  'westus2'
  'centralus'
  'eastus2'
  'westeurope'
  'eastasia'
])
param staticWebAppLocation string = 'westeurope'

@description('URL of the site your landing pages are on (Capture__SiteBaseUrl), e.g. https://www.example.com; empty means the sample page\'s Static Web App.')
param siteBaseUrl string = ''

@description('Put Azure Front Door with WAF rate limits per client IP in front of the app (and admit only Front Door). Off by default: Front Door has a monthly base fee.')
param enableFrontDoorWaf bool = false

@description('Front Door tier when enableFrontDoorWaf: Standard_AzureFrontDoor (custom and rate-limit rules) or Premium_AzureFrontDoor (adds managed rule sets and bot protection).')
@allowed([
  'Standard_AzureFrontDoor'
  'Premium_AzureFrontDoor'
])
param frontDoorSku string = 'Standard_AzureFrontDoor'

@description('Prevention blocks requests over the limits; Detection only logs them, to try the thresholds on real traffic first.')
@allowed([
  'Prevention'
  'Detection'
])
param frontDoorWafMode string = 'Prevention'

@description('Requests one client IP may send to /api/forms/* in one rate-limit window before Front Door blocks it for the rest of the window.')
@minValue(10)
param formsRateLimitThreshold int = 20

@description('Requests one client IP may send to /api/events in one rate-limit window (page views and clicks are more frequent than forms).')
@minValue(10)
param eventsRateLimitThreshold int = 300

@description('Length of the Front Door rate-limit window in minutes: 1 or 5.')
@allowed([
  1
  5
])
param rateLimitDurationInMinutes int = 1

@description('Application (client) id of the Entra ID app registration for the sales and marketing workspace (docs/workspace.md). Empty leaves App Service Authentication off: the workspace endpoints then answer 401 "sign-in is not configured".')
param workspaceClientId string = ''

@description('Token audiences the workspace accepts besides workspaceClientId and api://<workspaceClientId>, e.g. a custom Application ID URI.')
param workspaceExtraAudiences array = []

@secure()
@description('HMAC key for tracking and sales-action links. azd reads it back from Key Vault on every run so it stays stable; shorter than 32 characters (or empty) it is extended with a random seed.')
param trackingSigningKey string = ''

@secure()
@description('Random material used only to extend a missing or short trackingSigningKey. Never set it: the default is fresh on every deployment (three GUIDs: over 256 random bits, which the app requires of its key).')
param trackingSigningKeySeed string = '${newGuid()}${newGuid()}${newGuid()}'

@secure()
@description('HMAC key lead ids are derived with. azd reads it back from Key Vault on every run so it stays stable (a new key gives every address a new lead id); shorter than 32 characters (or empty) it is extended with a random seed.')
param leadIdKey string = ''

@secure()
@description('Random material used only to extend a missing or short leadIdKey. Never set it: the default is fresh on every deployment.')
param leadIdKeySeed string = '${newGuid()}${newGuid()}${newGuid()}'

@secure()
@description('Shared secret of the ACS delivery-report webhook (32+ URL-safe characters). Set DELIVERY_REPORTS_WEBHOOK_SECRET (azd env set DELIVERY_REPORTS_WEBHOOK_SECRET "$(openssl rand -hex 32)") to keep it stable across runs; empty uses deliveryReportsWebhookSecretSeed.')
param deliveryReportsWebhookSecret string = ''

@secure()
@description('Random material for the webhook secret when none is set. Never set it: the default is fresh on every deployment.')
param deliveryReportsWebhookSecretSeed string = '${newGuid()}${newGuid()}'

@secure()
@description('Signing secret of outgoing webhooks (Webhooks__Secrets__Default; receivers verify X-LeadFunctions-Signature with it). Set WEBHOOK_SIGNING_SECRET (azd env set WEBHOOK_SIGNING_SECRET "$(openssl rand -hex 32)") to keep it stable across runs, or read it from Key Vault; empty uses webhookSigningSecretSeed.')
param webhookSigningSecret string = ''

@secure()
@description('Random material for the outgoing webhook secret when none is set. Never set it: the default is fresh on every deployment (three GUIDs, 384 random bits).')
param webhookSigningSecretSeed string = '${newGuid()}${newGuid()}${newGuid()}'

@secure()
@description('HMAC secret the CRM signs its webhook requests with (32+ characters; docs/crm.md). Set CRM_WEBHOOK_SECRET (azd env set CRM_WEBHOOK_SECRET "$(openssl rand -hex 32)") and give the CRM the same value; empty stores a random one (read it from Key Vault), fresh on every deployment.')
param crmWebhookSecret string = ''

@secure()
@description('Random material for the CRM webhook secret when none is set. Never set it: the default is fresh on every deployment.')
param crmWebhookSecretSeed string = '${newGuid()}${newGuid()}'

@description('Create the Event Grid subscription that sends ACS delivery reports to the app. Event Grid validates the webhook when the subscription is created, so turn it on only after the first deploy (DELIVERY_REPORTS_SUBSCRIPTION=true, then azd provision).')
param deliveryReportsSubscription bool = false

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
var staticWebAppName = 'stapp-${resourceToken}'
var frontDoorProfileName = 'afd-${resourceToken}'
var frontDoorEndpointName = 'leads-${resourceToken}'
var deploymentContainerName = 'app-package-${take(resourceToken, 7)}'
var signingKeySecretName = 'tracking-signing-key'
// Hex without dashes: URL-safe, as the app requires of the webhook secret.
var deliveryReportsSecret = length(deliveryReportsWebhookSecret) >= 32 ? deliveryReportsWebhookSecret : replace(deliveryReportsWebhookSecretSeed, '-', '')
// Hex without dashes, as for the delivery-report secret; 64+ hex digits, as the app requires of a signing secret.
var webhookSecret = length(webhookSigningSecret) >= 32 ? webhookSigningSecret : replace(webhookSigningSecretSeed, '-', '')
// Every queue the app touches: the trigger's queue and the poison queue the host moves failures to.
var queueNames = [
  'lead-events'
  'lead-events-poison'
]
// Every table the app registers (RequiredTable); Infra.Tests compares this list with the code.
var tableNames = [
  'Leads'
  'LeadIndex'
  'NurtureDue'
  'NurtureState'
  'AccessLog'
  'WebhookDeliveries'
  'FunnelCounters'
  'ScoringModels'
  'NurtureResults'
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
    deliveryReportsSecretValue: deliveryReportsSecret
    webhookSigningSecretValue: webhookSecret
    crmWebhookSecretValue: length(crmWebhookSecret) >= 32 ? crmWebhookSecret : replace(crmWebhookSecretSeed, '-', '')
    signingKeyValue: length(trackingSigningKey) >= 32 ? trackingSigningKey : '${trackingSigningKey}${trackingSigningKeySeed}'
    leadIdKeyValue: length(leadIdKey) >= 32 ? leadIdKey : '${leadIdKey}${leadIdKeySeed}'
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

// The sample landing page (azure.yaml service `web`); its URL is the app's Capture__SiteBaseUrl unless siteBaseUrl names another site.
module web 'modules/staticwebapp.bicep' = {
  scope: rg
  params: {
    location: staticWebAppLocation
    tags: tags
    name: staticWebAppName
    azdServiceName: 'web'
  }
}

// Optional: Front Door and its WAF rate limits. The profile comes first (the app admits only its id), the origin after the app.
module frontDoor 'modules/frontdoor.bicep' = if (enableFrontDoorWaf) {
  scope: rg
  params: {
    tags: tags
    profileName: frontDoorProfileName
    endpointName: frontDoorEndpointName
    wafPolicyName: 'waf${resourceToken}'
    sku: frontDoorSku
    wafMode: frontDoorWafMode
    formsRateLimitThreshold: formsRateLimitThreshold
    eventsRateLimitThreshold: eventsRateLimitThreshold
    rateLimitDurationInMinutes: rateLimitDurationInMinutes
  }
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
    leadIdKeyReference: keyVault.outputs.leadIdKeyReference
    deliveryReportsWebhookReference: keyVault.outputs.deliveryReportsSecretReference
    webhookSigningKeyReference: keyVault.outputs.webhookSigningSecretReference
    crmWebhookReference: keyVault.outputs.crmWebhookSecretReference
    nurtureSchedule: nurtureSchedule
    maxMarketingEmailsPerWeek: maxMarketingEmailsPerWeek
    salesEscalationAddress: salesEscalationAddress
    emailMaxPerMinute: emailMaxPerMinute
    emailMaxPerHour: emailMaxPerHour
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    siteBaseUrl: empty(siteBaseUrl) ? web.outputs.url : siteBaseUrl
    publicBaseUrl: enableFrontDoorWaf ? frontDoor!.outputs.url : ''
    frontDoorId: enableFrontDoorWaf ? frontDoor!.outputs.frontDoorId : ''
  }
  // The host reaches storage with the identity on its first start, so its roles must exist before the app does.
  dependsOn: [
    rbac
  ]
}

// Sign-in for the workspace (Easy Auth with Entra ID), once an app registration exists; anonymous endpoints stay anonymous.
module auth 'modules/auth.bicep' = if (!empty(workspaceClientId)) {
  scope: rg
  params: {
    functionAppName: functionAppName
    clientId: workspaceClientId
    extraAllowedAudiences: workspaceExtraAudiences
    forwardProxyConvention: enableFrontDoorWaf ? 'Standard' : 'NoProxy'
  }
  // The name is known up front (so What-If can predict the settings); the app must exist first.
  dependsOn: [
    functionApp
  ]
}

module frontDoorOrigin 'modules/frontdoor-origin.bicep' = if (enableFrontDoorWaf) {
  scope: rg
  params: {
    profileName: frontDoorProfileName
    endpointName: frontDoorEndpointName
    functionHostName: functionApp.outputs.hostName
  }
  // Names are known up front (so What-If can predict the origin); the app, and so the profile, exist before it.
}

// ACS delivery reports (bounces, suppressions) back to the app, so bad addresses stop getting mail.
module eventGrid 'modules/eventgrid.bicep' = {
  scope: rg
  params: {
    tags: tags
    communicationServiceName: communicationServiceName
    systemTopicName: 'evgt-${resourceToken}'
    webhookEndpointUrl: '${functionApp.outputs.url}/api/email/delivery-reports?secret=${deliveryReportsSecret}'
    createSubscription: deliveryReportsSubscription
  }
}

// Where pages and scripts send forms and events: Front Door when it is enabled, else the app itself.
var apiUrl = enableFrontDoorWaf ? frontDoor!.outputs.url : functionApp.outputs.url

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
output LEADFUNCTIONS_API_URL string = apiUrl
output LEADFUNCTIONS_SITE_URL string = empty(siteBaseUrl) ? web.outputs.url : siteBaseUrl
output SERVICE_WEB_NAME string = web.outputs.name
output SERVICE_WEB_ENDPOINT_URL string = web.outputs.url
output AZURE_FRONT_DOOR_ENABLED bool = enableFrontDoorWaf
output WORKSPACE_SIGN_IN_ENABLED bool = !empty(workspaceClientId)
