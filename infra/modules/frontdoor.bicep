// Optional (main.bicep: enableFrontDoorWaf, off by default): Azure Front Door in front of the function app, with a WAF
// policy whose rate-limit rules block a client IP that floods the anonymous capture endpoints. The app's own limits
// protect one instance; a real flood has to be stopped before it reaches the app (and its bill).
// The origin and route are in frontdoor-origin.bicep: they need the function app, which needs this profile's id first.

@description('Tags applied to the Front Door profile and the WAF policy.')
param tags object

@description('Name of the Front Door profile.')
param profileName string

@description('Name of the Front Door endpoint; Azure appends a hash to make its host name, <name>-<hash>.z01.azurefd.net.')
param endpointName string

@description('Name of the WAF policy: letters and digits only, starting with a letter.')
param wafPolicyName string

@description('Standard_AzureFrontDoor (custom and rate-limit rules) or Premium_AzureFrontDoor (adds managed rule sets, bot protection and Private Link origins).')
@allowed([
  'Standard_AzureFrontDoor'
  'Premium_AzureFrontDoor'
])
param sku string

@description('Prevention blocks what the rules match; Detection only logs it (to try thresholds on real traffic first).')
@allowed([
  'Prevention'
  'Detection'
])
param wafMode string

@description('Requests one client IP may send to /api/forms/* within the window before it is blocked for the rest of the window.')
@minValue(10)
param formsRateLimitThreshold int

@description('Requests one client IP may send to /api/events within the window before it is blocked for the rest of the window.')
@minValue(10)
param eventsRateLimitThreshold int

@description('Length of the rate-limit window in minutes (Front Door offers 1 or 5).')
@allowed([
  1
  5
])
param rateLimitDurationInMinutes int

resource profile 'Microsoft.Cdn/profiles@2025-06-01' = {
  name: profileName
  location: 'global'
  tags: tags
  sku: {
    name: sku
  }
  properties: {
    originResponseTimeoutSeconds: 60
  }
}

resource endpoint 'Microsoft.Cdn/profiles/afdEndpoints@2025-06-01' = {
  parent: profile
  name: endpointName
  location: 'global'
  tags: tags
  properties: {
    enabledState: 'Enabled'
  }
}

// Function routes are case-insensitive, so the path is lower-cased before it is matched: /API/Forms/x counts too.
// SocketAddr is the address that opened the connection to Front Door; X-Forwarded-For (RemoteAddr) is the client's to forge.
var perClientIp = [
  {
    variableName: 'SocketAddr'
  }
]

resource waf 'Microsoft.Network/FrontDoorWebApplicationFirewallPolicies@2025-03-01' = {
  name: wafPolicyName
  location: 'global'
  tags: tags
  sku: {
    name: sku
  }
  properties: {
    policySettings: {
      enabledState: 'Enabled'
      mode: wafMode
      customBlockResponseStatusCode: 429
      customBlockResponseBody: base64('{"type":"urn:leadfunctions:problem:rate-limited","title":"Too many requests.","status":429}')
    }
    customRules: {
      rules: [
        {
          name: 'FormsPerClientIp'
          priority: 100
          enabledState: 'Enabled'
          ruleType: 'RateLimitRule'
          rateLimitDurationInMinutes: rateLimitDurationInMinutes
          rateLimitThreshold: formsRateLimitThreshold
          groupBy: perClientIp
          matchConditions: [
            {
              matchVariable: 'RequestUri'
              operator: 'Contains'
              matchValue: [
                '/api/forms/'
              ]
              transforms: [
                'Lowercase'
              ]
            }
          ]
          action: 'Block'
        }
        {
          name: 'EventsPerClientIp'
          priority: 110
          enabledState: 'Enabled'
          ruleType: 'RateLimitRule'
          rateLimitDurationInMinutes: rateLimitDurationInMinutes
          rateLimitThreshold: eventsRateLimitThreshold
          groupBy: perClientIp
          matchConditions: [
            {
              matchVariable: 'RequestUri'
              operator: 'Contains'
              matchValue: [
                '/api/events'
              ]
              transforms: [
                'Lowercase'
              ]
            }
          ]
          action: 'Block'
        }
      ]
    }
  }
}

resource securityPolicy 'Microsoft.Cdn/profiles/securityPolicies@2025-06-01' = {
  parent: profile
  name: 'rate-limits'
  properties: {
    parameters: {
      type: 'WebApplicationFirewall'
      wafPolicy: {
        id: waf.id
      }
      associations: [
        {
          domains: [
            {
              id: endpoint.id
            }
          ]
          patternsToMatch: [
            '/*'
          ]
        }
      ]
    }
  }
}

// The X-Azure-FDID header Front Door adds to every request it forwards: the function app admits only this profile.
output frontDoorId string = profile.properties.frontDoorId
output url string = 'https://${endpoint.properties.hostName}'
