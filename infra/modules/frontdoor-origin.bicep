// The function app as the origin of the Front Door endpoint from frontdoor.bicep, and the route that sends every path to it.

@description('Name of the Front Door profile frontdoor.bicep created.')
param profileName string

@description('Name of the Front Door endpoint frontdoor.bicep created.')
param endpointName string

@description('Default host name of the function app (<name>.azurewebsites.net), the origin Front Door forwards to.')
param functionHostName string

resource profile 'Microsoft.Cdn/profiles@2025-06-01' existing = {
  name: profileName
}

resource endpoint 'Microsoft.Cdn/profiles/afdEndpoints@2025-06-01' existing = {
  parent: profile
  name: endpointName
}

resource originGroup 'Microsoft.Cdn/profiles/originGroups@2025-06-01' = {
  parent: profile
  name: 'functions'
  properties: {
    // One origin, so no health probes: they would only add requests to the app.
    loadBalancingSettings: {
      sampleSize: 4
      successfulSamplesRequired: 3
      additionalLatencyInMilliseconds: 50
    }
    sessionAffinityState: 'Disabled'
  }
}

resource origin 'Microsoft.Cdn/profiles/originGroups/origins@2025-06-01' = {
  parent: originGroup
  name: 'function-app'
  properties: {
    hostName: functionHostName
    // The app is reached by its own name, so its certificate and host routing work unchanged.
    originHostHeader: functionHostName
    httpPort: 80
    httpsPort: 443
    priority: 1
    weight: 1000
    enabledState: 'Enabled'
    enforceCertificateNameCheck: true
  }
}

resource route 'Microsoft.Cdn/profiles/afdEndpoints/routes@2025-06-01' = {
  parent: endpoint
  name: 'all'
  properties: {
    originGroup: {
      id: originGroup.id
    }
    supportedProtocols: [
      'Https'
    ]
    patternsToMatch: [
      '/*'
    ]
    forwardingProtocol: 'HttpsOnly'
    linkToDefaultDomain: 'Enabled'
    httpsRedirect: 'Disabled'
    enabledState: 'Enabled'
    // No cacheConfiguration: every answer (303s, 202s, tracking pixels) is per request and must not be cached.
  }
  // The route may only be created once its origin group has an origin.
  dependsOn: [
    origin
  ]
}
