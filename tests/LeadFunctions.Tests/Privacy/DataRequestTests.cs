using Azure.Data.Tables;
using LeadFunctions.Infrastructure.Storage;
using LeadFunctions.Privacy;
using LeadFunctions.Tests.Nurture;
using LeadFunctions.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using MimeKit;

namespace LeadFunctions.Tests.Privacy;

/// <summary>The person's own way in: the "your data" link in a marketing e-mail, the page, the confirmation e-mail and its link.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class DataRequestTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_confirmed_erase_request_from_the_footer_link_erases_the_lead_and_logs_the_request_by_ids_only()
    {
        // Arrange: the footer link of the nurture e-mail.
        await using var journey = await PrivacyJourney.RunAsync(azurite);
        var yourData = YourDataToken(await NurtureEmailAsync(journey));
        var filesBefore = journey.Harness.EmlFiles().Length;

        // Act 1: the page is fetched (as a link scanner would): it only shows the choices.
        var page = Assert.IsType<ContentResult>(await Request(journey, "GET", yourData, null));
        Assert.Equal(200, page.StatusCode);
        Assert.Contains("Erase my data", page.Content, StringComparison.Ordinal);
        Assert.Equal(filesBefore, journey.Harness.EmlFiles().Length);

        // Act 2: the person chooses erasure; a confirmation e-mail goes to the address.
        var asked = Assert.IsType<ContentResult>(await Request(journey, "POST", yourData, new() { ["request"] = "erase" }));
        Assert.Equal(200, asked.StatusCode);
        var confirmation = (await journey.Harness.MessagesAsync()).Single(m => m.Subject == "Confirm: erase your data");
        Assert.Equal(PrivacyJourney.Email, ((MailboxAddress)confirmation.To.Single()).Address);
        var confirmToken = SalesAlertTests.TokenOf(confirmation.TextBody, "privacy/confirm");
        Assert.NotNull(await journey.Harness.Services.GetRequiredService<LeadFunctions.Domain.Leads.ILeadDirectory>().FindAsync(journey.LeadId, CancellationToken.None));

        // Act 3: the confirmation link is opened, then confirmed.
        var ask = Assert.IsType<ContentResult>(await Confirm(journey, "GET", confirmToken, null));
        Assert.Contains("Yes, erase my data", ask.Content, StringComparison.Ordinal);
        var done = Assert.IsType<ContentResult>(await Confirm(journey, "POST", confirmToken, new() { ["confirm"] = "yes" }));
        var again = Assert.IsType<ContentResult>(await Confirm(journey, "POST", confirmToken, new() { ["confirm"] = "yes" }));

        // Assert: erased like DELETE; what remains is the tombstone, the suppression, the ids-only request record, and the lead
        // index's erasure markers with their records (lead id and time only).
        Assert.Equal(200, done.StatusCode);
        Assert.Equal(409, again.StatusCode);
        Assert.Empty(journey.Harness.EmlFiles());
        var leadsTable = journey.Harness.Services.GetRequiredService<IOptions<StorageOptions>>().Value.LeadsTable;
        var index = journey.Harness.Services.GetRequiredService<LeadFunctions.Infrastructure.Lists.LeadIndexTable>().Client.Name;
        var remains = journey.Mentions().Where(m => m.Table != index).ToList();
        var log = Assert.Single(remains, m => m.PartitionKey == "privacy-requests");
        Assert.Equal(3, remains.Count);
        Assert.All(journey.Mentions().Where(m => m.Table == index), m => Assert.True(m.PartitionKey == "!erasures" || m.RowKey == "l|" + journey.LeadId, $"{m.PartitionKey} {m.RowKey}"));
        Assert.Contains((leadsTable, journey.LeadId, "!erased"), remains);
        var row = journey.Harness.Services.GetRequiredService<TableServiceClient>().GetTableClient(leadsTable).GetEntity<TableEntity>(log.PartitionKey, log.RowKey).Value;
        Assert.Equal("erased", row.GetString("Status"));
        Assert.Equal("erase", row.GetString("Action"));
        Assert.DoesNotContain(row, p => (p.Value?.ToString() ?? "").Contains('@', StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_confirmed_copy_request_emails_the_export_to_the_address()
    {
        // Arrange
        await using var journey = await PrivacyJourney.RunAsync(azurite);
        var yourData = YourDataToken(await NurtureEmailAsync(journey));

        // Act
        await Request(journey, "POST", yourData, new() { ["request"] = "copy" });
        await Request(journey, "POST", yourData, new() { ["request"] = "copy" });
        var confirmations = (await journey.Harness.MessagesAsync()).Where(m => m.Subject == "Confirm: a copy of your data").ToList();
        var confirmToken = SalesAlertTests.TokenOf(Assert.Single(confirmations).TextBody, "privacy/confirm");
        var done = Assert.IsType<ContentResult>(await Confirm(journey, "POST", confirmToken, new() { ["confirm"] = "yes" }));

        // Assert: one confirmation for the repeated request, and the export inline in the reply, addressed to the person.
        Assert.Equal(200, done.StatusCode);
        var export = (await journey.Harness.MessagesAsync()).Single(m => m.Subject == "Your data");
        Assert.Equal(PrivacyJourney.Email, ((MailboxAddress)export.To.Single()).Address);
        Assert.Contains($"\"leadId\": \"{journey.LeadId}\"", export.TextBody, StringComparison.Ordinal);
        Assert.Contains("\"firstName\": \"Dora\"", export.TextBody, StringComparison.Ordinal);
        Assert.NotNull(await journey.Harness.Services.GetRequiredService<LeadFunctions.Domain.Leads.ILeadDirectory>().FindAsync(journey.LeadId, CancellationToken.None));
    }

    [Fact]
    public async Task A_link_of_another_kind_or_an_edited_one_does_not_open_the_data_pages()
    {
        // Arrange
        await using var journey = await PrivacyJourney.RunAsync(azurite);
        var message = await NurtureEmailAsync(journey);
        var unsubscribe = SalesAlertTests.TokenOf(message.TextBody, "unsubscribe");
        var yourData = YourDataToken(message);

        // Act
        var wrongKind = Assert.IsType<ContentResult>(await Request(journey, "POST", unsubscribe, new() { ["request"] = "erase" }));
        var edited = Assert.IsType<ContentResult>(await Request(journey, "GET", yourData[..^2] + "AA", null));
        var requestAsConfirm = Assert.IsType<ContentResult>(await Confirm(journey, "POST", yourData, new() { ["confirm"] = "yes" }));

        // Assert
        Assert.Equal(404, wrongKind.StatusCode);
        Assert.Equal(404, edited.StatusCode);
        Assert.Equal(404, requestAsConfirm.StatusCode);
        Assert.NotNull(await journey.Harness.Services.GetRequiredService<LeadFunctions.Domain.Leads.ILeadDirectory>().FindAsync(journey.LeadId, CancellationToken.None));
    }

    private static async Task<MimeMessage> NurtureEmailAsync(PrivacyJourney journey) =>
        (await journey.Harness.MessagesAsync()).Single(m => m.Subject == "First for Dora");

    private static string YourDataToken(MimeMessage message)
    {
        Assert.Contains("https://leads.contoso.example/api/privacy/your-data?t=", message.HtmlBody, StringComparison.Ordinal);
        return SalesAlertTests.TokenOf(message.TextBody, "privacy/your-data");
    }

    private static Task<IActionResult> Request(PrivacyJourney journey, string method, string token, Dictionary<string, StringValues>? form) =>
        ActivatorUtilities.CreateInstance<RequestLeadData>(journey.Harness.Services).Run(Http(method, "/api/privacy/your-data", token, form), CancellationToken.None);

    private static Task<IActionResult> Confirm(PrivacyJourney journey, string method, string token, Dictionary<string, StringValues>? form) =>
        ActivatorUtilities.CreateInstance<ConfirmLeadDataRequest>(journey.Harness.Services).Run(Http(method, "/api/privacy/confirm", token, form), CancellationToken.None);

    private static HttpRequest Http(string method, string path, string token, Dictionary<string, StringValues>? form)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;
        context.Request.QueryString = QueryString.Create("t", token);
        if (form is not null)
        {
            context.Request.ContentType = "application/x-www-form-urlencoded";
            context.Request.Form = new FormCollection(form);
        }
        return context.Request;
    }
}
