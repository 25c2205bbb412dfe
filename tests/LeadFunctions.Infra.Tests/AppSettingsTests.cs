using LeadFunctions.Infra.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using LeadFunctions.Infrastructure.Hosting;

namespace LeadFunctions.Infra.Tests;

/// <summary>
/// Every setting the code reads is set on the function app. The expected set is derived from the code (options classes,
/// binding expressions, trigger connections) and from local.settings.sample.json, never from a hand-kept list.
/// </summary>
public sealed class AppSettingsTests
{
    /// <summary>
    /// Settings deliberately left unset in Azure, each with the reason. An entry ending in "__" covers a whole section.
    /// Entries must match something the code reads, so this list cannot silently go stale.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> NotSetInAzure = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["Email__Folder__"] = "the folder sender is for local runs; Azure sends through ACS (Email__Sender=Acs)",
        ["Email__Smtp__"] = "the SMTP sender is an alternative to ACS for self-hosting; Azure uses the ACS REST sender",
        ["Email__Acs__ConnectionString"] = "keyless: the app signs in to ACS with its managed identity (Email__Acs__ClientId)",
        ["Crm__PreviousWebhookSecret"] = "set only while the CRM webhook secret is rotated (docs/crm.md), then removed",
        ["Content__CatalogueFile"] = "the default, config/content.json, is the catalogue the app ships and deploys; set it only to point at another file",
    };

    /// <summary>Settings that must never be present: they would carry a key or a password.</summary>
    public static readonly string[] MustNotBeSet = ["Email__Acs__ConnectionString", "Email__Smtp__Password", "AzureWebJobsStorage", "LeadStorage"];

    /// <summary>Settings the Flex Consumption plan rejects or ignores (runtime and deployment live in functionAppConfig).</summary>
    public static readonly string[] RejectedByFlexConsumption =
    [
        "FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "FUNCTIONS_WORKER_RUNTIME_VERSION", "WEBSITE_RUN_FROM_PACKAGE",
        "WEBSITE_CONTENTSHARE", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING", "SCM_DO_BUILD_DURING_DEPLOYMENT", "WEBSITE_NODE_DEFAULT_VERSION",
    ];

    private static readonly CompiledTemplate Template = CompiledTemplate.Instance;

    private static IReadOnlySet<string> Settings => Template.AppSettings.Select(p => p.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);

    [Fact]
    public void Options_classes_are_found_in_the_code()
    {
        Assert.Contains(AppCode.OptionsTypes, t => t.Name == "StorageOptions");
        Assert.Contains(AppCode.OptionKeys, k => k.AppSetting == "Storage__LeadsTable");
    }

    [Fact]
    public void Every_setting_of_every_options_class_is_set_unless_documented_as_not_for_azure()
    {
        var missing = AppCode.OptionKeys
            .Where(k => !Settings.Contains(k.AppSetting) && !IsNotSetInAzure(k.AppSetting))
            .Select(k => $"{k.AppSetting} ({k.OptionsType.Name}.{k.Property.Name})")
            .ToList();

        Assert.True(missing.Count == 0, "Not set in infra/modules/functionapp.bicep: " + string.Join(", ", missing));
    }

    [Fact]
    public void Every_documented_exclusion_still_matches_a_setting_the_code_reads()
    {
        foreach (var excluded in NotSetInAzure.Keys)
            Assert.Contains(AppCode.OptionKeys, k => excluded.EndsWith("__", StringComparison.Ordinal) ? k.AppSetting.StartsWith(excluded, StringComparison.Ordinal) : k.AppSetting == excluded);
    }

    [Theory]
    [MemberData(nameof(MustNotBeSetData))]
    public void Key_or_password_bearing_settings_are_absent(string setting)
    {
        Assert.DoesNotContain(setting, Settings);
    }

    [Theory]
    [MemberData(nameof(RejectedData))]
    public void Settings_flex_consumption_rejects_are_absent(string setting)
    {
        Assert.DoesNotContain(setting, Settings);
    }

    [Fact]
    public void Every_documented_local_setting_is_set_in_its_azure_form()
    {
        var sample = AppCode.SampleLocalSettings();
        Assert.Contains("AzureWebJobsStorage", sample.Keys);

        foreach (var (key, value) in sample)
        {
            if (key == "FUNCTIONS_WORKER_RUNTIME")
            {
                // Flex Consumption takes the worker runtime from functionAppConfig.runtime, not from an app setting.
                Assert.Equal(value, Template.Single("Microsoft.Web/sites").Properties["functionAppConfig"]!["runtime"]!["name"]!.GetValue<string>());
            }
            else if (IsConnectionString(value))
            {
                AssertIdentityBasedConnection(key);
            }
            else if (!IsNotSetInAzure(key))
            {
                Assert.True(Settings.Contains(key), $"local.settings.sample.json documents '{key}', but the function app does not set it.");
            }
        }
    }

    [Fact]
    public void Every_binding_expression_on_a_function_is_set()
    {
        var missing = AppCode.BindingExpressionSettings.Where(s => !Settings.Contains(s.Replace(":", "__", StringComparison.Ordinal))).ToList();

        Assert.True(missing.Count == 0, "Binding expressions with no app setting: " + string.Join(", ", missing));
    }

    [Fact]
    public void Nurture_timer_schedule_is_set_to_a_six_field_ncrontab_expression()
    {
        var schedule = TemplateSettings.Resolve(Template)["NurtureSchedule"];

        Assert.NotNull(schedule);
        Assert.Equal(6, schedule!.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void Every_trigger_connection_and_the_host_storage_are_identity_based()
    {
        AssertIdentityBasedConnection("AzureWebJobsStorage");
        AssertIdentityBasedConnection(Infrastructure.Storage.StorageOptions.ConnectionName);
        foreach (var connection in AppCode.TriggerConnections)
            AssertIdentityBasedConnection(connection);
        Assert.Contains("AzureWebJobsStorage__blobServiceUri", Settings);
    }

    [Fact]
    public void Telemetry_and_email_sign_in_with_the_apps_user_assigned_identity()
    {
        var settings = Template.AppSettings;
        const string clientId = "[parameters('identityClientId')]";

        Assert.Equal(clientId, settings["AzureWebJobsStorage__clientId"]!.GetValue<string>());
        Assert.Equal(clientId, settings["LeadStorage__clientId"]!.GetValue<string>());
        Assert.Equal(clientId, settings["Email__Acs__ClientId"]!.GetValue<string>());
        Assert.Equal("Acs", settings["Email__Sender"]!.GetValue<string>());
        Assert.Equal("[format('ClientId={0};Authorization=AAD', parameters('identityClientId'))]", settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]!.GetValue<string>());
        Assert.Contains("APPLICATIONINSIGHTS_CONNECTION_STRING", Settings);
    }

    [Fact]
    public void App_creates_no_storage_in_azure_because_the_template_provisions_it()
    {
        Assert.Equal("false", Template.AppSettings["Storage__CreateIfMissing"]!.GetValue<string>());
    }

    [Fact]
    public void Options_validate_with_the_settings_the_template_gives_the_app()
    {
        var (validated, failures) = ValidateOptions(TemplateSettings.Resolve(Template));

        Assert.True(failures.Count == 0, "The app would refuse to start: " + string.Join("; ", failures));
        Assert.True(validated >= 3, $"only {validated} options classes have validators; the check is not reaching the features");
    }

    [Fact]
    public void Options_check_catches_a_required_setting_the_template_forgot()
    {
        var settings = TemplateSettings.Resolve(Template).Where(s => s.Key != "SalesAlerts__EscalationAddress").ToDictionary(s => s.Key, s => s.Value);

        var (_, failures) = ValidateOptions(settings);

        Assert.Contains(failures, f => f.Contains("SalesAlerts:EscalationAddress", StringComparison.Ordinal));
    }

    [Fact]
    public void Code_discovery_sees_the_timer_schedule_the_queue_connection_and_the_feature_tables()
    {
        var (tables, queues) = AppCode.RequiredStorage(TemplateSettings.Resolve(Template));

        Assert.Contains("NurtureSchedule", AppCode.BindingExpressionSettings);
        Assert.Contains(Infrastructure.Storage.StorageOptions.ConnectionName, AppCode.TriggerConnections);
        Assert.Contains("NurtureDue", tables);
        Assert.Contains("lead-events", queues);
    }

    /// <summary>Binds every options class from the settings the way the app does and collects validation failures.</summary>
    private static (int Validated, List<string> Failures) ValidateOptions(IReadOnlyDictionary<string, string?> settings)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(settings.Select(s => KeyValuePair.Create(s.Key.Replace("__", ":", StringComparison.Ordinal), s.Value)));
        builder.AddLeadPipeline();
        using var services = builder.Services.BuildServiceProvider();

        var validated = 0;
        var failures = new List<string>();
        foreach (var type in AppCode.OptionsTypes)
        {
            if (!services.GetServices(typeof(IValidateOptions<>).MakeGenericType(type)).Any())
                continue;
            validated++;
            var options = services.GetRequiredService(typeof(IOptions<>).MakeGenericType(type));
            try
            {
                _ = options.GetType().GetProperty("Value")!.GetValue(options);
            }
            catch (System.Reflection.TargetInvocationException ex) when (ex.InnerException is OptionsValidationException invalid)
            {
                failures.AddRange(invalid.Failures);
            }
        }
        return (validated, failures);
    }

    public static TheoryData<string> MustNotBeSetData() => new(MustNotBeSet);

    public static TheoryData<string> RejectedData() => new(RejectedByFlexConsumption);

    private static bool IsNotSetInAzure(string key) =>
        NotSetInAzure.Keys.Any(e => e.EndsWith("__", StringComparison.Ordinal) ? key.StartsWith(e, StringComparison.Ordinal) : key == e);

    private static bool IsConnectionString(string value) =>
        value.StartsWith("UseDevelopmentStorage=", StringComparison.OrdinalIgnoreCase) || value.Contains("AccountName=", StringComparison.OrdinalIgnoreCase);

    private static void AssertIdentityBasedConnection(string name)
    {
        var settings = Template.AppSettings;
        Assert.DoesNotContain(name, Settings);
        Assert.Equal("managedidentity", settings[$"{name}__credential"]?.GetValue<string>());
        Assert.Equal("[parameters('identityClientId')]", settings[$"{name}__clientId"]?.GetValue<string>());
        Assert.Equal("[parameters('queueEndpoint')]", settings[$"{name}__queueServiceUri"]?.GetValue<string>());
        Assert.Equal("[parameters('tableEndpoint')]", settings[$"{name}__tableServiceUri"]?.GetValue<string>());
    }
}
