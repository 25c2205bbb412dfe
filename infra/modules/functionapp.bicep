// The Flex Consumption plan and the function app, running as the user-assigned identity, with every setting
// the app reads. Connections are identity-based (…__credential=managedidentity + service URIs); no keys anywhere.

@description('Azure region for the plan and the app.')
param location string

@description('Tags applied to the plan; the app gets these plus azd-service-name.')
param tags object

@description('Name of the Flex Consumption plan.')
param planName string

@description('Name of the function app (also its default host name, <name>.azurewebsites.net).')
param name string

@description('Service name in azure.yaml; azd finds the app to deploy to by this tag.')
param azdServiceName string

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Client id of the user-assigned identity (what the SDKs and the host need to pick it).')
param identityClientId string

@description('Blob endpoint of the storage account, with trailing slash.')
param blobEndpoint string

@description('Queue endpoint of the storage account, with trailing slash.')
param queueEndpoint string

@description('Table endpoint of the storage account, with trailing slash.')
param tableEndpoint string

@description('Blob container Flex Consumption deploys the app package to.')
param deploymentContainerName string

@description('Application Insights connection string (holds no secret: local auth is disabled on the component).')
param applicationInsightsConnectionString string

@description('Communication Services endpoint, https://<resource>.communication.azure.com.')
param communicationEndpoint string

@description('Sender address on the linked Azure-managed domain.')
param emailFromAddress string

@description('Key Vault reference to the tracking signing key, @Microsoft.KeyVault(SecretUri=...).')
param trackingSigningKeyReference string

@description('Key Vault reference to the HMAC key lead ids are derived with, @Microsoft.KeyVault(SecretUri=...).')
param leadIdKeyReference string

@description('Key Vault reference to the shared secret of the ACS delivery-report webhook (DeliveryReports__WebhookSecret).')
param deliveryReportsWebhookReference string

@description('Key Vault reference to the signing secret of outgoing webhooks (Webhooks__Secrets__Default).')
param webhookSigningKeyReference string
@description('Key Vault reference to the HMAC secret of the inbound CRM webhook (Crm__WebhookSecret).')
param crmWebhookReference string

@description('NCRONTAB schedule (six fields, UTC) of the nurture and sales-alert timer.')
param nurtureSchedule string

@description('Most marketing e-mails one lead receives in any 7 days.')
param maxMarketingEmailsPerWeek int

@description('Who is told, once, about an SQL nobody accepted within the SLA.')
param salesEscalationAddress string

@description('Client-side e-mail ceiling per minute; raise it after ACS raises the resource\'s quota.')
param emailMaxPerMinute int

@description('Client-side e-mail ceiling per hour; raise it after ACS raises the resource\'s quota.')
param emailMaxPerHour int

@description('Upper bound on instances the app scales out to (Flex Consumption bills only for what runs).')
param maximumInstanceCount int

@description('Memory per instance in MB (Flex Consumption offers 512, 2048 and 4096).')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int

@description('Where the landing pages live (the sample Static Web App, or your own site): Capture__SiteBaseUrl. Thank-you and error paths in forms.json resolve against it.')
param siteBaseUrl string

@description('Public base URL of the app\'s endpoints when something fronts it (Front Door), for links in e-mails; empty means the app\'s own host name.')
param publicBaseUrl string = ''

@description('The Front Door profile id (X-Azure-FDID) that alone may reach the app; empty leaves the app open to the internet directly.')
param frontDoorId string = ''

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    // Flex Consumption is Linux only.
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': azdServiceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references are resolved with this identity (there is no system-assigned one).
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      http20Enabled: true
      // Behind Front Door the WAF's rate limits only count if nobody can go around it: admit only that profile's traffic.
      ipSecurityRestrictionsDefaultAction: empty(frontDoorId) ? 'Allow' : 'Deny'
      ipSecurityRestrictions: empty(frontDoorId)
        ? []
        : [
            {
              name: 'front-door-only'
              action: 'Allow'
              priority: 100
              tag: 'ServiceTag'
              ipAddress: 'AzureFrontDoor.Backend'
              headers: {
                'x-azure-fdid': [
                  frontDoorId
                ]
              }
            }
          ]
      // azd deploys through the SCM site with Entra ID; it keeps its own (open) rules.
      scmIpSecurityRestrictionsUseMain: false
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      // Flex sets the worker runtime here; FUNCTIONS_WORKER_RUNTIME as an app setting is rejected on this plan.
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }
}

// azd deploys with Entra ID; publishing with a user name and password is switched off.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource appSettings 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: site
  name: 'appsettings'
  properties: {
    // Functions host storage (leases, timer schedule monitor, queue listeners' bookkeeping).
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    AzureWebJobsStorage__blobServiceUri: blobEndpoint
    AzureWebJobsStorage__queueServiceUri: queueEndpoint
    AzureWebJobsStorage__tableServiceUri: tableEndpoint
    // Storage clients retry for about 3.5 minutes, so a short outage is waited out instead of failing polls (docs/local-development.md#storage-outages).
    AzureWebJobsStorage__Retry__Mode: 'Exponential'
    AzureWebJobsStorage__Retry__MaxRetries: '10'
    AzureWebJobsStorage__Retry__Delay: '00:00:02'
    AzureWebJobsStorage__Retry__MaxDelay: '00:00:30'

    // The pipeline's own connection: the queue trigger (Connection = "LeadStorage") and StorageConnection read these.
    LeadStorage__credential: 'managedidentity'
    LeadStorage__clientId: identityClientId
    LeadStorage__queueServiceUri: queueEndpoint
    LeadStorage__tableServiceUri: tableEndpoint
    LeadStorage__Retry__Mode: 'Exponential'
    LeadStorage__Retry__MaxRetries: '10'
    LeadStorage__Retry__Delay: '00:00:02'
    LeadStorage__Retry__MaxDelay: '00:00:30'
    Storage__LeadsTable: 'Leads'
    // Who read or changed which lead (object ids only), keyed by lead so erasure takes it (docs/workspace.md#access-log).
    Workspace__AccessLogTable: 'AccessLog'
    // Its bound: rows kept a year, at most 1,000 per lead (one per user, action and day), swept by the retention timer.
    Workspace__AccessLogDays: '365'
    Workspace__AccessLogRowsPerLead: '1000'
    Workspace__AccessLogPagesPerRun: '200'
    // The lead index behind GET /api/leads, kept by the processor.
    Lists__IndexTable: 'LeadIndex'
    // Tables and queues are provisioned by storage.bicep; the identity has data roles, not management ones.
    Storage__CreateIfMissing: 'false'

    APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'

    // E-mail through Azure Communication Services with the managed identity (no connection string).
    Email__Sender: 'Acs'
    Email__FromAddress: emailFromAddress
    Email__FromName: 'LeadFunctions'
    Email__MaxPerMinute: string(emailMaxPerMinute)
    Email__MaxPerHour: string(emailMaxPerHour)
    // Part of the hourly quota only sales alerts and SLA steps may use, so a nurture burst cannot starve them.
    Email__ReservedPerHour: '10'
    Email__Acs__Endpoint: communicationEndpoint
    Email__Acs__ClientId: identityClientId
    Email__Acs__ApiVersion: '2025-09-01'
    Email__Acs__DisableEngagementTracking: 'true'
    Email__Acs__MaxRetries: '5'
    Email__Acs__RetryDelay: '00:00:01'
    Email__Acs__MaxRetryDelay: '00:01:00'

    // Landing-page capture: the forms file ships with the app (config/ is published with it).
    Capture__FormsFile: 'config/forms.json'
    Capture__MaxBodyBytes: '65536'
    Capture__MaxFieldCount: '50'
    Capture__MaxFieldLength: '4000'
    Capture__RetryAfterSeconds: '30'
    // The landing pages' site: the Functions host serves no pages, so thank-you paths must land there.
    Capture__SiteBaseUrl: siteBaseUrl

    // In-process rate limits (per instance; the optional Front Door WAF limits real floods before they reach the app).
    // The platform appends the caller to X-Forwarded-For; behind Front Door (and only when locked to it) the client is one hop further.
    RateLimit__Enabled: 'true'
    RateLimit__ForwardedForHops: empty(frontDoorId) ? '1' : '2'
    RateLimit__MaxPartitions: '10000'
    RateLimit__Forms__PermitLimit: '20'
    RateLimit__Forms__WindowSeconds: '60'
    RateLimit__Events__PermitLimit: '300'
    RateLimit__Events__WindowSeconds: '60'
    RateLimit__Links__PermitLimit: '120'
    RateLimit__Links__WindowSeconds: '60'
    RateLimit__StageChanges__PermitLimit: '60'
    RateLimit__StageChanges__WindowSeconds: '60'
    RateLimit__Webhooks__PermitLimit: '600'
    RateLimit__Webhooks__WindowSeconds: '60'
    RateLimit__Email__PermitLimit: '10'
    RateLimit__Email__WindowSeconds: '3600'

    // Scoring model, versioned with the code.
    Scoring__ModelPath: 'config/scoring-model.json'
    Scoring__MaxConcurrencyRetries: '100'
    // Visitor stitching and the lead row's bounds (docs/scoring.md).
    Scoring__VisitorHistoryDays: '30'
    Scoring__MaxPendingVisitorEvents: '200'
    Scoring__MaxLinkedVisitors: '50'
    // Leads each instance remembers after writing them, so their next event skips the read (docs/performance.md).
    LeadCache__MaxLeads: '4096'
    // How long a remembered row may be used and kept (seconds): an erased lead's copy lives no longer (docs/privacy.md).
    LeadCache__MaxAgeSeconds: '600'

    // Timer schedule, referenced as %NurtureSchedule% by the timer trigger.
    NurtureSchedule: nurtureSchedule

    // Retention (docs/privacy.md): the daily timer, every period off (0) until the deploying company sets its own.
    RetentionSchedule: '0 30 3 * * *'
    Retention__EraseInactiveAfterDays: '0'
    Retention__AppliedEventDays: '0'
    Retention__LedgerDays: '0'
    Retention__MaxPagesPerRun: '50'

    // Nurture programmes. ACS only sends from its linked domain, so every sender uses the managed domain's address.
    Nurture__ProgrammesFile: 'config/nurture.json'
    Nurture__TemplatesFolder: 'config/templates'
    Nurture__MaxMarketingEmailsPerWeek: string(maxMarketingEmailsPerWeek)
    Nurture__FromAddress: emailFromAddress
    Nurture__FromName: 'LeadFunctions'
    // The sender is a no-reply address, so a lead's reply goes to the sales manager until you set your own.
    Nurture__ReplyToAddress: salesEscalationAddress
    Nurture__DueTable: 'NurtureDue'
    Nurture__StateTable: 'NurtureState'
    Nurture__ClaimLeaseSeconds: '300'
    // Funnel counters (docs/funnel.md): shards spread the writes; markers are the exactly-once proof, deleted after MarkerDays.
    Funnel__CountersTable: 'FunnelCounters'
    Funnel__Shards: '4'
    Funnel__MarkerDays: '90'
    // Nurture results per step (docs/nurture-results.md): counters per step and shard, hashed per-message markers kept MarkerDays.
    NurtureResults__CountersTable: 'NurtureResults'
    NurtureResults__Shards: '4'
    NurtureResults__GoalWindowDays: '30'
    NurtureResults__MarkerDays: '120'
    Nurture__MaxItemsPerRun: '500'
    Nurture__MaxSendAttempts: '8'
    Nurture__RetryDelaySeconds: '60'
    Nurture__MaxRetryDelaySeconds: '3600'
    Nurture__RunBudgetSeconds: '240'
    Nurture__CommitGraceSeconds: '600'
    // Double opt-in: at most one confirmation e-mail per address per window; links work for ConfirmationValidDays.
    Nurture__ConfirmationTemplate: 'consent-confirmation'
    Nurture__ConfirmationSubject: '{{ lead.firstName | default: \'Hello\' }}, please confirm you want our e-mails'
    Nurture__ConfirmationWindowHours: '24'
    Nurture__ConfirmationValidDays: '7'

    // Sales alerts and the SLA clock; routing rules (who gets which lead) ship in config/sales-routing.json.
    SalesAlerts__RoutingFile: 'config/sales-routing.json'
    // The SLA ladder (docs/nurture.md): remind the rep at 15 min, the manager at 1 h, another rep at 4 h, breach at 24 h.
    SalesAlerts__Sla__0__Kind: 'remind'
    SalesAlerts__Sla__0__After: '15m'
    SalesAlerts__Sla__1__Kind: 'escalate'
    SalesAlerts__Sla__1__After: '1h'
    SalesAlerts__Sla__2__Kind: 'reroute'
    SalesAlerts__Sla__2__After: '4h'
    SalesAlerts__Sla__3__Kind: 'breach'
    SalesAlerts__Sla__3__After: '24h'
    SalesAlerts__EscalationAddress: salesEscalationAddress
    SalesAlerts__FromAddress: emailFromAddress
    SalesAlerts__FromName: 'LeadFunctions alerts'
    SalesAlerts__AlertTemplate: 'sales-alert'
    SalesAlerts__EscalationTemplate: 'sla-escalation'

    // Outgoing webhooks (docs/webhooks.md): subscriptions ship in config/webhooks.json; the timer posts what is due every minute.
    WebhookSchedule: '0 */1 * * * *'
    Webhooks__SubscriptionsFile: 'config/webhooks.json'
    Webhooks__DeliveriesTable: 'WebhookDeliveries'
    Webhooks__MaxAttempts: '8'
    Webhooks__RetryDelaySeconds: '30'
    Webhooks__MaxRetryDelaySeconds: '3600'
    Webhooks__TimeoutSeconds: '10'
    Webhooks__MaxDeliveriesPerRun: '500'
    Webhooks__MaxDeliveriesPerSubscription: '100'
    Webhooks__MaxConcurrency: '4'
    // Below the 5-minute default function timeout, with room for the slowest attempt in flight.
    Webhooks__RunBudgetSeconds: '240'
    Webhooks__CommitGraceSeconds: '600'
    Webhooks__ClaimLeaseSeconds: '300'
    // The secret a subscription names with "secretSetting": "Webhooks__Secrets__Default"; add Webhooks__Secrets__<name> for more.
    Webhooks__Secrets__Default: webhookSigningKeyReference

    // Published scoring models and re-scores (docs/scoring.md, "Publishing a model and re-scoring").
    ScoringRescoreSchedule: '0 */1 * * * *'
    ScoringPublish__ModelsTable: 'ScoringModels'
    ScoringPublish__RefreshSeconds: '30'
    ScoringPublish__RescorePageSize: '500'
    ScoringPublish__RescorePagesPerRun: '4'
    ScoringPublish__MaxCheckPasses: '3'

    // Tracking links point back at this app; the HMAC key stays in Key Vault.
    Tracking__BaseUrl: empty(publicBaseUrl) ? 'https://${site.properties.defaultHostName}' : publicBaseUrl
    Tracking__SigningKey: trackingSigningKeyReference
    // Lead ids are an HMAC under this key, kept in Key Vault; its id is written into every id, so a re-key can tell old ids apart.
    LeadIds__Key: leadIdKeyReference
    LeadIds__KeyId: 'k1'
    // The delivery-report webhook compares ?secret= with this in constant time.
    DeliveryReports__WebhookSecret: deliveryReportsWebhookReference
    // The CRM webhook verifies X-LeadFunctions-Signature with this; Crm__PreviousWebhookSecret is added only while rotating.
    Crm__WebhookSecret: crmWebhookReference
    // The id written into every token; a rotation gives the new key a new id and moves the old pair to PreviousSigningKeys.
    Tracking__SigningKeyId: 'k1'
    Tracking__MinimumHumanDelaySeconds: '10'
    Tracking__EngagementScoringDays: '30'
    Tracking__UnsubscribeLinkDays: '90'
    Tracking__SalesLinkGraceHours: '72'
  }
}

output name string = site.name
output url string = 'https://${site.properties.defaultHostName}'
output hostName string = site.properties.defaultHostName
