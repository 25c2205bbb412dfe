using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using LeadFunctions.Infra.Tests.Support;

namespace LeadFunctions.Infra.Tests;

/// <summary>Keyless by construction: no shared keys, no local auth, no secrets in templates or parameters.</summary>
public sealed partial class SecurityTests
{
    private static readonly CompiledTemplate Template = CompiledTemplate.Instance;

    [Fact]
    public void Storage_account_refuses_shared_keys_public_blobs_and_old_tls()
    {
        var storage = Template.Single("Microsoft.Storage/storageAccounts").Properties;

        Assert.False(storage["allowSharedKeyAccess"]!.GetValue<bool>());
        Assert.False(storage["allowBlobPublicAccess"]!.GetValue<bool>());
        Assert.Equal("TLS1_2", storage["minimumTlsVersion"]!.GetValue<string>());
        Assert.True(storage["supportsHttpsTrafficOnly"]!.GetValue<bool>());
    }

    [Theory]
    [InlineData("listKeys(")]
    [InlineData("listkeys(")]
    [InlineData("AccountKey=")]
    [InlineData("SharedAccessSignature")]
    [InlineData("DefaultEndpointsProtocol")]
    [InlineData("accesskey=")]
    [InlineData("listConnectionStrings")]
    public void Compiled_template_has_no_key_or_key_bearing_connection_string(string forbidden)
    {
        Assert.DoesNotContain(forbidden, Template.Json, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Bicep_sources_and_parameters_have_no_key_or_key_bearing_connection_string()
    {
        var files = Directory.EnumerateFiles(BicepCli.InfraDirectory, "*", SearchOption.AllDirectories).ToList();
        Assert.Contains(files, f => f.EndsWith("main.bicep", StringComparison.Ordinal));

        foreach (var file in files)
        {
            var text = File.ReadAllText(file);
            Assert.DoesNotMatch(KeyBearing(), text);
        }
    }

    [Fact]
    public void Parameter_file_holds_only_azd_substitutions_never_a_literal_value()
    {
        var parameters = JsonNode.Parse(File.ReadAllText(Path.Combine(BicepCli.InfraDirectory, "main.parameters.json")))!["parameters"]!.AsObject();

        Assert.NotEmpty(parameters);
        foreach (var (name, node) in parameters)
        {
            var value = node!["value"]!.GetValue<string>();
            Assert.True(value.StartsWith("${", StringComparison.Ordinal) || value.StartsWith("$(secretOrRandomPassword ", StringComparison.Ordinal),
                $"Parameter '{name}' has the literal value '{value}'; values come from the azd environment.");
        }
        Assert.Equal("${AZURE_ENV_NAME}", parameters["environmentName"]!["value"]!.GetValue<string>());
        Assert.Equal("${AZURE_LOCATION}", parameters["location"]!["value"]!.GetValue<string>());
    }

    [Fact]
    public void Secret_parameters_are_secure_and_have_no_literal_default()
    {
        var parameters = Template.Root["parameters"]!.AsObject();
        var secrets = parameters.Where(p => p.Key.Contains("key", StringComparison.OrdinalIgnoreCase) || p.Key.Contains("secret", StringComparison.OrdinalIgnoreCase)).ToList();

        Assert.NotEmpty(secrets);
        foreach (var (name, node) in secrets)
        {
            Assert.Equal("securestring", node!["type"]!.GetValue<string>());
            var defaultValue = node["defaultValue"]?.GetValue<string>() ?? "";
            Assert.True(defaultValue.Length == 0 || defaultValue.Contains("newGuid()", StringComparison.Ordinal), $"'{name}' has a literal default.");
        }
    }

    [Fact]
    public void Application_insights_accepts_only_entra_authenticated_telemetry_and_sits_on_log_analytics()
    {
        var insights = Template.Single("Microsoft.Insights/components").Properties;

        Assert.True(insights["DisableLocalAuth"]!.GetValue<bool>());
        Assert.Contains("Microsoft.OperationalInsights/workspaces", insights["WorkspaceResourceId"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public void Communication_services_has_no_access_keys_and_is_linked_to_an_azure_managed_domain()
    {
        var acs = Template.Single("Microsoft.Communication/communicationServices").Properties;
        var domains = Template.OfType("Microsoft.Communication/emailServices/domains").ToList();

        Assert.True(acs["disableLocalAuth"]!.GetValue<bool>());
        Assert.Equal(["AzureManaged", "CustomerManaged"], domains.Select(d => d.Properties["domainManagement"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        // The managed domain is linked either way; the custom one joins only once verified (ACS refuses an unverified link).
        var linked = acs["linkedDomains"]!.GetValue<string>();
        Assert.StartsWith("[if(variables('sendFromCustomDomain'), createArray(", linked, StringComparison.Ordinal);
        Assert.EndsWith("createArray(resourceId('Microsoft.Communication/emailServices/domains', parameters('emailServiceName'), 'AzureManagedDomain')))]", linked, StringComparison.Ordinal);
    }

    [Fact]
    public void A_custom_sending_domain_is_optional_and_off_by_default()
    {
        var main = Template.Root["parameters"]!;

        Assert.Equal("", main["emailCustomDomain"]!["defaultValue"]!.GetValue<string>());
        Assert.False(main["emailCustomDomainVerified"]!["defaultValue"]!.GetValue<bool>());
    }

    [Fact]
    public void Key_vault_uses_rbac_and_holds_the_signing_key_the_app_reads_by_reference()
    {
        var vault = Template.Single("Microsoft.KeyVault/vaults").Properties;
        // The vault holds other secrets too (the lead id key, the webhook secret): pick the signing key's.
        var secrets = Template.OfType("Microsoft.KeyVault/vaults/secrets").ToList();
        var secret = secrets.Single(r => r.NameExpression.Contains("signingKeySecretName", StringComparison.Ordinal));
        var reference = Template.AppSettings["Tracking__SigningKey"]!;
        var resolved = ResolveThroughModules(reference);

        Assert.True(vault["enableRbacAuthorization"]!.GetValue<bool>());
        Assert.Contains("@Microsoft.KeyVault(SecretUri=", resolved, StringComparison.Ordinal);
        Assert.Contains("secretUri", resolved, StringComparison.Ordinal);
        Assert.Equal("securestring", secret.Scope.Template["parameters"]!["signingKeyValue"]!["type"]!.GetValue<string>());
        // The delivery-report and CRM webhook secrets, the outgoing webhook signing secret and the lead id key are passed as
        // secure parameters too and read by reference.
        Assert.Equal(5, secrets.Count);
        Assert.Equal("securestring", secret.Scope.Template["parameters"]!["deliveryReportsSecretValue"]!["type"]!.GetValue<string>());
        Assert.Contains("@Microsoft.KeyVault(SecretUri=", ResolveThroughModules(Template.AppSettings["DeliveryReports__WebhookSecret"]!), StringComparison.Ordinal);
        Assert.Equal("securestring", secret.Scope.Template["parameters"]!["crmWebhookSecretValue"]!["type"]!.GetValue<string>());
        Assert.Contains("@Microsoft.KeyVault(SecretUri=", ResolveThroughModules(Template.AppSettings["Crm__WebhookSecret"]!), StringComparison.Ordinal);
        Assert.Equal("securestring", secret.Scope.Template["parameters"]!["webhookSigningSecretValue"]!["type"]!.GetValue<string>());
        Assert.Contains("@Microsoft.KeyVault(SecretUri=", ResolveThroughModules(Template.AppSettings["Webhooks__Secrets__Default"]!), StringComparison.Ordinal);
    }

    [Fact]
    public void Key_vault_holds_the_outgoing_webhook_signing_secret_the_app_reads_by_reference_never_as_a_literal()
    {
        var resolved = ResolveThroughModules(Template.AppSettings["Webhooks__Secrets__Default"]!);
        var secrets = Template.OfType("Microsoft.KeyVault/vaults/secrets").ToList();

        Assert.Contains("@Microsoft.KeyVault(SecretUri=", resolved, StringComparison.Ordinal);
        Assert.Contains("webhookSigningSecret", resolved, StringComparison.Ordinal);
        Assert.Contains(secrets, s => s.Scope.Template["parameters"]?["webhookSigningSecretValue"]?["type"]?.GetValue<string>() == "securestring");
    }

    [Fact]
    public void Key_vault_holds_the_lead_id_key_the_app_reads_by_reference_never_as_a_literal()
    {
        var reference = Template.AppSettings["LeadIds__Key"]!;
        var resolved = ResolveThroughModules(reference);
        var secrets = Template.OfType("Microsoft.KeyVault/vaults/secrets").ToList();

        Assert.Contains("@Microsoft.KeyVault(SecretUri=", resolved, StringComparison.Ordinal);
        Assert.Contains("leadIdKey", resolved, StringComparison.Ordinal);
        Assert.Contains(secrets, s => s.Scope.Template["parameters"]?["leadIdKeyValue"]?["type"]?.GetValue<string>() == "securestring");
        Assert.Equal("k1", Template.AppSettings["LeadIds__KeyId"]!.GetValue<string>());
    }

    [Fact]
    public void Function_app_serves_https_only_with_basic_publishing_credentials_off()
    {
        var site = Template.Single("Microsoft.Web/sites").Properties;
        var policies = Template.OfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies").ToList();

        Assert.True(site["httpsOnly"]!.GetValue<bool>());
        Assert.Equal("1.2", site["siteConfig"]!["minTlsVersion"]!.GetValue<string>());
        Assert.Equal(2, policies.Count);
        Assert.All(policies, p => Assert.False(p.Properties["allow"]!.GetValue<bool>()));
    }

    /// <summary>Follows a <c>[parameters('x')]</c> through the module boundary to the expression the parent passes in.</summary>
    private static string ResolveThroughModules(JsonNode node)
    {
        var settings = Template.OfType("Microsoft.Web/sites/config").Single(r => r.NameExpression.Contains("'appsettings'", StringComparison.Ordinal));
        var value = settings.Scope.Resolve(node)!.GetValue<string>();
        // The reference is an output of the Key Vault module; read that output's expression.
        var output = Regex.Match(value, @"reference\('(\w+)'\)\.outputs\.(\w+)\.value");
        if (!output.Success)
            return value;
        var module = Template.Root["resources"]![output.Groups[1].Value]!;
        return module["properties"]!["template"]!["outputs"]![output.Groups[2].Value]!["value"]!.GetValue<string>();
    }

    [GeneratedRegex(@"AccountKey=|listKeys\(|DefaultEndpointsProtocol=|SharedAccessSignature=", RegexOptions.IgnoreCase)]
    private static partial Regex KeyBearing();
}
