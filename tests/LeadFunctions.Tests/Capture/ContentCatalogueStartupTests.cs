using System.Text.Json.Nodes;
using LeadFunctions.Domain.Content;
using LeadFunctions.Infrastructure.Capture;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Tests.Capture;

/// <summary>The content catalogue is checked when the app starts, as a whole and against the forms that name its content.</summary>
public sealed class ContentCatalogueStartupTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("leadfunctions-content-").FullName;

    [Fact]
    public async Task The_shipped_catalogue_and_forms_let_the_app_start()
    {
        // Arrange
        using var host = Host(catalogueFile: null);

        // Act
        await host.StartAsync();

        // Assert
        Assert.True(host.Services.GetRequiredService<ContentCatalogue>().TryGet("whitepaper-lead-scoring", out _));
        await host.StopAsync();
    }

    [Fact]
    public async Task An_invalid_catalogue_stops_the_app_at_start_naming_the_setting_the_item_and_the_field()
    {
        // Arrange
        var catalogue = ShippedCatalogue();
        catalogue["content"]![1]!["funnelStage"] = "bottom-ish";
        using var host = Host(await WriteAsync(catalogue));

        // Act
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        // Assert
        var failure = Assert.Single(error.Failures);
        Assert.StartsWith("Content:CatalogueFile (", failure, StringComparison.Ordinal);
        Assert.EndsWith("content[1].funnelStage: 'bottom-ish' is not one of top, middle, bottom (content 'whitepaper-lead-scoring')", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_form_naming_content_the_catalogue_does_not_list_stops_the_app_at_start()
    {
        // Arrange: the whitepaper is taken out of the catalogue, the shipped whitepaper form still names it.
        var catalogue = ShippedCatalogue();
        var items = catalogue["content"]!.AsArray();
        items.Remove(items.Single(i => (string?)i!["id"] == "whitepaper-lead-scoring"));
        using var host = Host(await WriteAsync(catalogue));

        // Act
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        // Assert
        var failure = Assert.Single(error.Failures);
        Assert.StartsWith("Capture:FormsFile (config/forms.json): forms[1].properties.contentId: 'whitepaper-lead-scoring' is not in the content catalogue Content:CatalogueFile", failure, StringComparison.Ordinal);
        Assert.EndsWith("(form 'whitepaper-lead-scoring')", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_catalogue_file_stops_the_app_naming_it()
    {
        // Arrange
        var missing = Path.Combine(_folder, "nope.json");
        using var host = Host(missing);

        // Act
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        // Assert
        Assert.Contains(missing, Assert.Single(error.Failures), StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static JsonObject ShippedCatalogue() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "config", "content.json")))!.AsObject();

    private async Task<string> WriteAsync(JsonObject catalogue)
    {
        var path = Path.Combine(_folder, "content.json");
        await File.WriteAllTextAsync(path, catalogue.ToJsonString());
        return path;
    }

    private static IHost Host(string? catalogueFile)
    {
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        if (catalogueFile is not null)
            builder.Configuration["Content:CatalogueFile"] = catalogueFile;
        builder.Services.AddLogging();
        builder.Services.AddLeadCapture();
        return builder.Build();
    }
}
