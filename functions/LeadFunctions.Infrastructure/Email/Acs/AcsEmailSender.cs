using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using LeadFunctions.Domain.Messaging;
using Microsoft.Extensions.Logging;

namespace LeadFunctions.Infrastructure.Email.Acs;

/// <summary>
/// Azure Communication Services Email over its REST API (<c>POST {endpoint}/emails:send</c>, answered 202 with an
/// <c>Operation-Location</c>), through an Azure.Core pipeline: the SDK's retry policy, and either Microsoft Entra
/// (managed identity) or the connection string's access key with HMAC signing.
/// Every try of one logical attempt (<see cref="EmailMessage.Attempt"/>) carries the same <c>Operation-Id</c> and
/// <c>Repeatability-Request-Id</c> (derived from the message id and the attempt number) and the same
/// <c>Repeatability-First-Sent</c> (when the attempt started), so the service recognises a repeat within its window.
/// </summary>
public sealed partial class AcsEmailSender : IEmailSender
{
    /// <summary>The Entra scope ACS data-plane tokens are issued for (the double slash is how the service names it).</summary>
    public const string Scope = "https://communication.azure.com//.default";

    private readonly HttpPipeline _pipeline;
    private readonly Uri _sendUri;
    private readonly bool _disableEngagementTracking;
    private readonly TimeProvider _time;
    private readonly ILogger<AcsEmailSender> _logger;

    public AcsEmailSender(
        AcsSenderOptions options,
        TimeProvider time,
        ILogger<AcsEmailSender> logger,
        TokenCredential? credential = null,
        AcsEmailClientOptions? clientOptions = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        _logger = logger;
        _disableEngagementTracking = options.DisableEngagementTracking;

        var connectionString = string.IsNullOrWhiteSpace(options.ConnectionString) ? null : AcsConnectionString.Parse(options.ConnectionString);
        var endpoint = !string.IsNullOrWhiteSpace(options.Endpoint)
            ? new Uri(options.Endpoint, UriKind.Absolute)
            : connectionString?.Endpoint ?? throw new InvalidOperationException("Email:Acs:Endpoint or Email:Acs:ConnectionString must be set.");
        _sendUri = new Uri($"{endpoint.GetLeftPart(UriPartial.Authority)}/emails:send?api-version={Uri.EscapeDataString(options.ApiVersion)}");

        HttpPipelinePolicy authentication = connectionString is not null
            ? new AcsHmacAuthenticationPolicy(connectionString.AccessKey, time)
            : new BearerTokenAuthenticationPolicy(credential ?? CreateCredential(options.ClientId), Scope);

        clientOptions ??= new AcsEmailClientOptions();
        clientOptions.RetryPolicy = new RetryPolicy(options.MaxRetries, new AcsDelayStrategy(options.RetryDelay, options.MaxRetryDelay, time, logger));
        _pipeline = HttpPipelineBuilder.Build(clientOptions, perCallPolicies: [], perRetryPolicies: [new AcsRepeatabilityPolicy(time), authentication], new ResponseClassifier());
    }

    public async Task SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        EmailHeaderGuard.CheckMessage(message);

        var requestId = Repeatability.RequestId(message).ToString("D");
        // Outside the outbox every call is its own attempt; inside, the attempt's start is what ACS must see on every try.
        var firstSent = message.Attempt?.StartedAt ?? _time.GetUtcNow();
        using var http = _pipeline.CreateMessage();
        http.SetProperty(AcsRepeatabilityPolicy.FirstSentProperty, firstSent);
        var request = http.Request;
        request.Method = RequestMethod.Post;
        request.Uri.Reset(_sendUri);
        request.Headers.SetValue(HttpHeader.Names.ContentType, "application/json");
        request.Headers.SetValue(HttpHeader.Names.Accept, "application/json");
        // The GA API's own operation id, and the ACS-wide repeatable-request pair; all three stay fixed across the tries of
        // one attempt. A new attempt gets a new id too: an old id with a new first-sent time would not match its original.
        request.Headers.SetValue("Operation-Id", requestId);
        request.Headers.SetValue("Repeatability-Request-Id", requestId);
        request.Headers.SetValue("Repeatability-First-Sent", AcsHmacSigner.FormatDate(firstSent));
        request.Content = RequestContent.Create(Body(message, _disableEngagementTracking));

        try
        {
            await _pipeline.SendAsync(http, cancellationToken);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The transport's own timeout, not the caller cancelling: the request may or may not have reached ACS.
            throw new RequestFailedException(0, "ACS did not answer in time.", ex);
        }

        var response = http.Response;
        if (response.Status != 202)
        {
            // "rejected" is a verdict on the repeat (its window, or a body that differs from the original), not on the message.
            if (response.Headers.TryGetValue("Repeatability-Result", out var repeatability) && string.Equals(repeatability, "rejected", StringComparison.OrdinalIgnoreCase))
                throw new AcsRepeatabilityRejectedException(response);
            throw new RequestFailedException(response);
        }

        response.Headers.TryGetValue("Operation-Location", out var operationLocation);
        LogAccepted(_logger, message.Id, message.LeadId, requestId, operationLocation);
    }

    /// <summary>The <c>EmailMessage</c> JSON of the REST API (senderAddress, recipients, content, replyTo, headers).</summary>
    internal static byte[] Body(EmailMessage message, bool disableEngagementTracking)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("senderAddress", message.From.Address);

            json.WriteStartObject("recipients");
            json.WriteStartArray("to");
            foreach (var to in message.To)
                WriteAddress(json, to);
            json.WriteEndArray();
            json.WriteEndObject();

            json.WriteStartObject("content");
            json.WriteString("subject", EmailHeaderGuard.SingleLineSubject(message.Subject));
            json.WriteString("plainText", message.TextBody);
            json.WriteString("html", message.HtmlBody);
            json.WriteEndObject();

            if (message.ReplyTo is { } replyTo)
            {
                json.WriteStartArray("replyTo");
                WriteAddress(json, replyTo);
                json.WriteEndArray();
            }

            if (message.Headers.Count > 0)
            {
                json.WriteStartObject("headers");
                foreach (var (name, value) in message.Headers)
                    json.WriteString(name, value);
                json.WriteEndObject();
            }

            if (disableEngagementTracking)
                json.WriteBoolean("userEngagementTrackingDisabled", true);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static void WriteAddress(Utf8JsonWriter json, MailRecipient recipient)
    {
        json.WriteStartObject();
        json.WriteString("address", recipient.Address);
        if (!string.IsNullOrEmpty(recipient.DisplayName))
            json.WriteString("displayName", EmailHeaderGuard.SafeDisplayName(recipient.DisplayName));
        json.WriteEndObject();
    }

    private static TokenCredential CreateCredential(string? clientId) =>
        string.IsNullOrWhiteSpace(clientId)
            ? new DefaultAzureCredential()
            : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId));

    [LoggerMessage(Level = LogLevel.Information, Message = "E-mail {MessageId} for lead {LeadId} accepted by ACS (request {RequestId}, operation {OperationLocation})")]
    private static partial void LogAccepted(ILogger logger, string messageId, string? leadId, string requestId, string? operationLocation);
}
