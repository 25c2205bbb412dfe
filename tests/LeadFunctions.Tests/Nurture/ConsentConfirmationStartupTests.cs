using LeadFunctions.Infrastructure.Nurture;
using LeadFunctions.Tests.Support;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Tests.Nurture;

/// <summary>The double opt-in settings are checked when the app starts, with errors naming the setting.</summary>
public sealed class ConsentConfirmationStartupTests
{
    [Theory]
    [InlineData("Nurture:ConfirmationValidDays", "0", "Nurture:ConfirmationValidDays must be between 1 and 90.")]
    [InlineData("Nurture:ConfirmationWindowHours", "0", "Nurture:ConfirmationWindowHours must be between 1 and 720.")]
    [InlineData("Nurture:ConfirmationTemplate", "no-such-template", "Nurture:ConfirmationTemplate: template 'no-such-template' has no files")]
    [InlineData("Nurture:ConfirmationSubject", "{{ lead.firstName ", "Nurture:ConfirmationSubject: is not valid Liquid")]
    public async Task A_bad_confirmation_setting_stops_the_app_at_start_naming_it(string key, string value, string expected)
    {
        using var host = Host(new() { [key] = value });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(error.Failures, f => f.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_link_that_expires_before_the_window_ends_is_refused()
    {
        using var host = Host(new() { ["Nurture:ConfirmationValidDays"] = "1", ["Nurture:ConfirmationWindowHours"] = "48" });

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(error.Failures, f => f.Contains("Nurture:ConfirmationValidDays: a link must work at least as long as Nurture:ConfirmationWindowHours (48 h)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_shipped_defaults_let_the_app_start()
    {
        using var host = Host([]);

        await host.StartAsync();
        await host.StopAsync();
    }

    private static IHost Host(Dictionary<string, string?> settings)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration["SalesAlerts:EscalationAddress"] = NurtureHarness.EscalationAddress;
        builder.Configuration["Tracking:SigningKey"] = NurtureHarness.SigningKey;
        builder.Configuration[TestLeadIds.Setting] = TestLeadIds.Key;
        builder.Configuration["Tracking:BaseUrl"] = "https://leads.contoso.example";
        foreach (var (key, value) in settings)
            builder.Configuration[key] = value;
        builder.Services.AddNurture();
        return builder.Build();
    }
}
