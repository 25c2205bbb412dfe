using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure;
using Azure.Data.Tables;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Messaging;
using LeadFunctions.Domain.Messaging.Composition;
using LeadFunctions.Domain.Tracking;
using LeadFunctions.Infrastructure.Email;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Infrastructure.Nurture;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Privacy;

/// <summary>The routes of the "your data" page and of its confirmation link.</summary>
public static class PrivacyRoutes
{
    public const string YourData = "privacy/your-data";
    public const string Confirm = "privacy/confirm";
}

public enum DataRequestAction
{
    Copy,
    Erase,
}

public enum DataRequestStatus
{
    /// <summary>Forged, edited, expired, of another kind, or for a lead we no longer hold.</summary>
    Invalid,
    /// <summary>The confirmation e-mail went (or had gone already for this request).</summary>
    ConfirmationSent,
    /// <summary>Confirmed and done: the copy was e-mailed, or the data erased.</summary>
    Done,
    /// <summary>This request was confirmed before; nothing more happens.</summary>
    AlreadyDone,
    /// <summary>The e-mail could not be sent just now; asking again retries it.</summary>
    Unavailable,
}

/// <summary>A verified link of the privacy pages: the lead, and for a confirmation link the request it confirms.</summary>
public sealed record DataRequestLink(string LeadId, string? RequestId, DataRequestAction? Action);

/// <summary>
/// The person's own way to ask for a copy or erasure: the signed "your data" link in every marketing e-mail opens a page; choosing
/// there sends a second signed link to the address; that link, confirmed, does it. Each request is logged by ids only
/// (<see cref="PrivacyRequestEntity"/>), and the log survives the erasure it records.
/// </summary>
public interface IDataRequests
{
    DataRequestLink? VerifyRequestLink(string? token);

    Task<DataRequestLink?> VerifyConfirmLinkAsync(string? token, CancellationToken cancellationToken);

    Task<DataRequestStatus> RequestAsync(DataRequestLink link, DataRequestAction action, CancellationToken cancellationToken);

    Task<DataRequestStatus> ConfirmAsync(DataRequestLink link, CancellationToken cancellationToken);
}

/// <summary>
/// One data request, in the <c>privacy-requests</c> partition of the leads table, keyed by request id: ids, action, times and
/// outcome, never an address. Erasure does not touch this partition, so the record of an erasure outlives the data.
/// </summary>
internal sealed class PrivacyRequestEntity : ITableEntity
{
    public const string Partition = "privacy-requests";

    public string PartitionKey { get; set; } = Partition;
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string LeadId { get; set; } = "";
    public string Action { get; set; } = "";
    public DateTimeOffset RequestedAt { get; set; }
    public DateTimeOffset? ConfirmedAt { get; set; }
    /// <summary><c>pending</c>, then <c>sent</c> (a copy e-mailed), <c>too-large</c> (a note e-mailed instead) or <c>erased</c>.</summary>
    public string Status { get; set; } = DataRequestStates.Pending;
}

internal static class DataRequestStates
{
    public const string Pending = "pending";
    public const string Sent = "sent";
    public const string TooLarge = "too-large";
    public const string Erased = "erased";
}

internal sealed partial class DataRequests(
    TrackingTokenSigner signer,
    LinkBuilder links,
    ILeadDirectory directory,
    NurtureStore store,
    NurtureConfiguration configuration,
    IEmailSender sender,
    ILeadExporter exporter,
    ILeadEraser eraser,
    LeadsTable leads,
    IOptions<NurtureOptions> nurtureOptions,
    IOptions<EmailOptions> emailOptions,
    TimeProvider time,
    ILogger<DataRequests> logger) : IDataRequests
{
    /// <summary>
    /// The largest export sent inline (characters of JSON); it goes in both the text and HTML parts, and ACS takes 10 MB per message.
    /// A larger one is answered with a note instead, and the request recorded as <c>too-large</c> for an operator to handle.
    /// </summary>
    internal const int MaxInlineExportChars = 2_000_000;

    private const string ConfirmationTemplate = "privacy-confirmation";
    private const string ExportTemplate = "privacy-export";
    private const string OutboxKind = "privacy";
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);

    public DataRequestLink? VerifyRequestLink(string? token) =>
        signer.Verify(token, TrackingKind.DataRequest) is { } claims && LeadIdentity.IsLeadId(claims.LeadId) ? new DataRequestLink(claims.LeadId, null, null) : null;

    public async Task<DataRequestLink?> VerifyConfirmLinkAsync(string? token, CancellationToken cancellationToken)
    {
        if (signer.Verify(token, TrackingKind.DataRequestConfirm) is not { } claims || !LeadIdentity.IsLeadId(claims.LeadId))
            return null;
        var request = await FindAsync(claims.MessageId, cancellationToken);
        if (request is null || request.LeadId != claims.LeadId || !Enum.TryParse<DataRequestAction>(request.Action, ignoreCase: true, out var action))
            return null;
        return new DataRequestLink(claims.LeadId, request.RowKey, action);
    }

    public async Task<DataRequestStatus> RequestAsync(DataRequestLink link, DataRequestAction action, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(link);
        var lead = await directory.FindSummaryAsync(link.LeadId, cancellationToken);
        if (lead is null)
            return DataRequestStatus.Invalid;

        // One request per lead, action and day: pressing the button again, or a retried POST, sends no second e-mail.
        var now = time.GetUtcNow();
        var requestId = "r" + Hash($"{link.LeadId}|{action}|{now.UtcDateTime:yyyy-MM-dd}");
        try
        {
            await leads.Client.AddEntityAsync(new PrivacyRequestEntity
            {
                RowKey = requestId,
                LeadId = link.LeadId,
                Action = action.ToString().ToLowerInvariant(),
                RequestedAt = now,
            }, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 409)
        {
            // Asked already today: the same request, its state kept.
        }

        var messageId = $"{link.LeadId}-{OutboxKind}-{requestId}";
        var confirm = links.For(new TrackingClaims { Kind = TrackingKind.DataRequestConfirm, LeadId = link.LeadId, MessageId = requestId, SentAtUnixSeconds = now.ToUnixTimeSeconds() });
        var rendered = configuration.Templates.Render(ConfirmationTemplate, action == DataRequestAction.Erase ? "Confirm: erase your data" : "Confirm: a copy of your data",
            new Dictionary<string, object?>
            {
                ["lead"] = Profile(lead),
                ["action"] = action.ToString().ToLowerInvariant(),
                ["links"] = new Dictionary<string, object?> { ["confirm"] = confirm },
                ["validHours"] = (int)TrackingLinkLifetimes.Default.DataRequestConfirm.TotalHours,
            });
        var status = await SendAsync(lead, $"{OutboxEntity.Prefix}{OutboxKind}-{requestId}", messageId, rendered, now, cancellationToken);
        LogRequested(logger, requestId, link.LeadId, action.ToString(), status.ToString());
        return status == DataRequestStatus.Done ? DataRequestStatus.ConfirmationSent : status;
    }

    public async Task<DataRequestStatus> ConfirmAsync(DataRequestLink link, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(link);
        if (link.RequestId is not { } requestId || await FindAsync(requestId, cancellationToken) is not { } request)
            return DataRequestStatus.Invalid;
        if (request.Status != DataRequestStates.Pending)
            return DataRequestStatus.AlreadyDone;

        var now = time.GetUtcNow();
        string outcome;
        if (link.Action == DataRequestAction.Erase)
        {
            await eraser.EraseAsync(link.LeadId, cancellationToken);
            outcome = DataRequestStates.Erased;
        }
        else
        {
            var lead = await directory.FindSummaryAsync(link.LeadId, cancellationToken);
            var export = await exporter.ExportAsync(link.LeadId, cancellationToken);
            if (lead is null || export is null)
                return DataRequestStatus.Invalid;
            var json = export.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
            var tooLarge = json.Length > MaxInlineExportChars;
            var rendered = configuration.Templates.Render(ExportTemplate, "Your data", new Dictionary<string, object?>
            {
                ["lead"] = Profile(lead),
                ["tooLarge"] = tooLarge,
                ["size"] = json.Length.ToString(CultureInfo.InvariantCulture),
                ["export"] = tooLarge ? "" : json,
            });
            var sent = await SendAsync(lead, $"{OutboxEntity.Prefix}{OutboxKind}-export-{requestId}", $"{link.LeadId}-{OutboxKind}-export-{requestId}", rendered, now, cancellationToken);
            if (sent == DataRequestStatus.Unavailable)
                return sent;
            outcome = tooLarge ? DataRequestStates.TooLarge : DataRequestStates.Sent;
        }

        request.Status = outcome;
        request.ConfirmedAt = now;
        try
        {
            await leads.Client.UpdateEntityAsync(request, request.ETag, TableUpdateMode.Replace, cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status is 412 or 404)
        {
            // A concurrent confirmation of the same request recorded it first; what it did is the same.
        }
        LogConfirmed(logger, requestId, link.LeadId, outcome);
        return DataRequestStatus.Done;
    }

    /// <summary>Through an outbox record in the lead's partition, so a retried request sends once; not marketing, so no cap.</summary>
    private async Task<DataRequestStatus> SendAsync(LeadSummary lead, string outboxKey, string messageId, RenderedEmail rendered, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var claim = await store.ClaimAsync(new OutboxEntity { PartitionKey = lead.LeadId, RowKey = outboxKey, Kind = OutboxKind, MessageId = messageId }, now, Lease, cancellationToken);
        if (claim is ClaimResult.AlreadySent)
            return DataRequestStatus.Done;
        if (claim is not ClaimResult.Won { Record: var record })
            return DataRequestStatus.Unavailable;
        var options = nurtureOptions.Value;
        var email = emailOptions.Value;
        var message = new EmailMessage
        {
            Id = messageId,
            LeadId = lead.LeadId,
            From = new MailRecipient(string.IsNullOrWhiteSpace(options.FromAddress) ? email.FromAddress : options.FromAddress.Trim(), null),
            To = [new MailRecipient(lead.Email)],
            Subject = rendered.Subject,
            HtmlBody = rendered.HtmlBody,
            TextBody = rendered.TextBody,
            FirstAttemptAt = record.FirstAttemptAt,
            Attempt = new SendAttempt(record.RequestAttempt, record.RequestFirstSent ?? now),
        };
        try
        {
            await sender.SendAsync(message, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogSendFailed(logger, ex, messageId, lead.LeadId);
            await store.ReleaseAsync(record, now, EmailFailures.Classify(ex), cancellationToken);
            return DataRequestStatus.Unavailable;
        }
        await store.MarkSentAsync(record, now, cancellationToken);
        return DataRequestStatus.Done;
    }

    private async Task<PrivacyRequestEntity?> FindAsync(string requestId, CancellationToken cancellationToken)
    {
        if (requestId.Length is 0 or > 64 || !requestId.All(char.IsAsciiLetterOrDigit))
            return null;
        var row = await leads.Client.GetEntityIfExistsAsync<PrivacyRequestEntity>(PrivacyRequestEntity.Partition, requestId, cancellationToken: cancellationToken);
        return row.HasValue ? row.Value : null;
    }

    private static Dictionary<string, object?> Profile(LeadSummary lead)
    {
        var model = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in lead.Profile)
            model[key] = value;
        return model;
    }

    private static string Hash(string value) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..32];

    [LoggerMessage(Level = LogLevel.Information, Message = "Data request {RequestId} ({Action}) for lead {LeadId}: confirmation {Status}")]
    private static partial void LogRequested(ILogger logger, string requestId, string leadId, string action, string status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Data request {RequestId} for lead {LeadId} confirmed: {Outcome}")]
    private static partial void LogConfirmed(ILogger logger, string requestId, string leadId, string outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Data request e-mail {MessageId} for lead {LeadId} could not be sent")]
    private static partial void LogSendFailed(ILogger logger, Exception exception, string messageId, string leadId);
}
