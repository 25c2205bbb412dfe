using LeadFunctions.Domain.Messaging;
using LeadFunctions.Infrastructure.Email;
using LeadFunctions.Infrastructure.Email.Acs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Tests.Email;

public sealed class EmailRegistrationTests
{
    private static ServiceProvider Services(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddEmailDelivery();
        return services.BuildServiceProvider();
    }

    [Fact]
    public void Without_settings_the_folder_sender_writes_under_the_content_root()
    {
        using var services = Services([]);

        var sender = Assert.IsType<FolderEmailSender>(services.GetRequiredService<IEmailSender>());

        Assert.Equal(".outbox", Path.GetFileName(sender.Folder));
        Assert.Equal(30, services.GetRequiredService<IOptions<EmailOptions>>().Value.MaxPerMinute);
        Assert.Equal(100, services.GetRequiredService<IOptions<EmailOptions>>().Value.MaxPerHour);
    }

    [Fact]
    public void Smtp_is_chosen_by_configuration_and_throttled()
    {
        using var services = Services(new()
        {
            ["Email:Sender"] = "smtp",
            ["Email:FromAddress"] = "news@contoso.example",
            ["Email:Smtp:Host"] = "smtp.azurecomm.net",
        });

        var sender = Assert.IsType<ThrottledEmailSender>(services.GetRequiredService<IEmailSender>());

        Assert.IsType<SmtpEmailSender>(sender.Inner);
    }

    [Fact]
    public void Acs_is_chosen_by_configuration_with_a_connection_string_and_throttled()
    {
        using var services = Services(new()
        {
            ["Email:Sender"] = "Acs",
            ["Email:FromAddress"] = "DoNotReply@contoso.example",
            ["Email:Acs:ConnectionString"] = "endpoint=https://contoso.communication.azure.com/;accesskey=AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
        });

        var sender = Assert.IsType<ThrottledEmailSender>(services.GetRequiredService<IEmailSender>());

        Assert.IsType<AcsEmailSender>(sender.Inner);
    }

    [Theory]
    [InlineData("Smtp", "Email:Smtp:Host")]
    [InlineData("Acs", "Email:Acs:Endpoint")]
    public void A_missing_setting_fails_validation_naming_the_field(string kind, string field)
    {
        using var services = Services(new() { ["Email:Sender"] = kind, ["Email:FromAddress"] = "news@contoso.example" });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<EmailOptions>>().Value);

        Assert.Contains(error.Failures, failure => failure.Contains(field, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Email:Acs:Endpoint", "http://contoso.communication.azure.com", "Email:Acs:Endpoint")]
    [InlineData("Email:Acs:ConnectionString", "endpoint=https://contoso.communication.azure.com/;accesskey=not base64!", "Email:Acs:ConnectionString")]
    [InlineData("Email:MaxPerMinute", "0", "Email:MaxPerMinute")]
    [InlineData("Email:FromAddress", "noreply@localhost", "Email:FromAddress")]
    public void An_invalid_acs_setting_fails_validation_naming_the_field(string key, string value, string field)
    {
        using var services = Services(new()
        {
            ["Email:Sender"] = "Acs",
            ["Email:FromAddress"] = "news@contoso.example",
            ["Email:Acs:Endpoint"] = "https://contoso.communication.azure.com",
            [key] = value,
        });

        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<EmailOptions>>().Value);

        Assert.Contains(error.Failures, failure => failure.Contains(field, StringComparison.Ordinal));
    }
}
