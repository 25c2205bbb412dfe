// The sample landing page's host: a Free Static Web App. azd deploys the page to it (azure.yaml service `web`,
// host staticwebapp) with a deployment token it reads through Azure Resource Manager at deploy time; nothing here
// holds a key, and the pipeline's storage account (shared keys disabled) is not involved.

@description('Region for the Static Web App resource (its content is served from a global edge; only a few regions host the resource).')
param location string

@description('Tags applied to the Static Web App; it also gets azd-service-name.')
param tags object

@description('Name of the Static Web App.')
param name string

@description('Service name in azure.yaml; azd finds the Static Web App to deploy the page to by this tag.')
param azdServiceName string

resource site 'Microsoft.Web/staticSites@2024-11-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': azdServiceName })
  sku: {
    name: 'Free'
    tier: 'Free'
  }
  properties: {
    // Deployed by azd (the SWA CLI), not connected to a repository.
    provider: 'Custom'
    // Pull-request preview sites would be further public copies of the page; there is no repository to make them from.
    stagingEnvironmentPolicy: 'Disabled'
    allowConfigFileUpdates: true
  }
}

output name string = site.name
output url string = 'https://${site.properties.defaultHostname}'
