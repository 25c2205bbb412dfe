using LeadFunctions.Infrastructure.Retention;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Tests.Retention;

public sealed class RetentionOptionsTests
{
    [Fact]
    public void Retention_is_off_when_nothing_is_set()
    {
        var options = Resolve([]);

        Assert.False(options.Enabled);
    }

    [Fact]
    public void Deleting_applied_events_younger_than_ninety_days_is_refused_at_start_naming_the_setting()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Resolve(new() { ["Retention:AppliedEventDays"] = "10" }));

        Assert.Contains("Retention:AppliedEventDays", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Erasing_inactive_leads_without_an_erasure_service_is_refused_at_start()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Resolve(new() { ["Retention:EraseInactiveAfterDays"] = "365" }));

        Assert.Contains("Retention:EraseInactiveAfterDays", error.Message, StringComparison.Ordinal);
    }

    private static RetentionOptions Resolve(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddRetention();
        return services.BuildServiceProvider().GetRequiredService<IOptions<RetentionOptions>>().Value;
    }
}
