// App Service Authentication (Easy Auth) with Microsoft Entra ID on the function app, for the sales and marketing workspace.
// Requests without a sign-in still reach the app (capture, tracking and sales links are anonymous by design); the platform
// validates any sign-in it sees, strips client-sent X-MS-CLIENT-PRINCIPAL headers and injects the real principal, and the
// workspace functions decide from it (docs/workspace.md). The app registration itself is made outside Bicep (see the docs).

@description('Name of the function app to put sign-in on.')
param functionAppName string

@description('Application (client) id of the Entra ID app registration that defines the workspace app roles (sales, marketing, admin).')
param clientId string

@description('Directory (tenant) id the users and the app registration belong to; the issuer is this tenant\'s v2.0 endpoint.')
param tenantId string = tenant().tenantId

@description('Token audiences the app accepts besides the client id itself and api://<clientId> (e.g. a custom Application ID URI).')
param extraAllowedAudiences array = []

@description('How the platform learns the public host for sign-in redirects: NoProxy when users reach the app directly, Standard behind Front Door (X-Forwarded-Host).')
@allowed([
  'NoProxy'
  'Standard'
])
param forwardProxyConvention string = 'NoProxy'

resource site 'Microsoft.Web/sites@2025-03-01' existing = {
  name: functionAppName
}

resource authSettings 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      // The functions decide: forms, tracking, links and keyed machine endpoints must stay reachable without a sign-in.
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
    }
    httpSettings: {
      requireHttps: true
      forwardProxy: {
        convention: forwardProxyConvention
      }
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: clientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: concat([
            clientId
            'api://${clientId}'
          ], extraAllowedAudiences)
        }
      }
    }
    login: {
      // Keeps the signed-in user's tokens server-side, so the browser session survives without the app storing anything.
      tokenStore: {
        enabled: true
      }
    }
  }
}

output issuer string = authSettings.properties.identityProviders.azureActiveDirectory.registration.openIdIssuer
