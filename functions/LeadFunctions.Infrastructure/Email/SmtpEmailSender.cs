using LeadFunctions.Domain.Messaging;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;

namespace LeadFunctions.Infrastructure.Email;

/// <summary>
/// Sends through any SMTP server with MailKit (ACS's relay: <c>smtp.azurecomm.net:587</c>, STARTTLS, an Entra app's
/// credentials). One connection per message: the timer sends few, and a connection never outlives a failure.
/// </summary>
public sealed partial class SmtpEmailSender(SmtpSenderOptions options, TimeProvider time, ILogger<SmtpEmailSender> logger) : IEmailSender
{
    public async Task SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var mime = MimeMessageBuilder.Build(message, message.FirstAttemptAt ?? time.GetUtcNow());

        using var client = new SmtpClient();
        var security = options.UseStartTls
            ? SecureSocketOptions.StartTls
            : options.Port == 465 ? SecureSocketOptions.SslOnConnect : SecureSocketOptions.StartTlsWhenAvailable;
        var host = options.Host ?? throw new InvalidOperationException("Email:Smtp:Host is not set.");
        await client.ConnectAsync(host, options.Port, security, cancellationToken);
        if (!string.IsNullOrEmpty(options.UserName))
            await client.AuthenticateAsync(options.UserName, options.Password ?? string.Empty, cancellationToken);

        // The server's reply is not logged: some servers echo the recipient's address in it.
        await client.SendAsync(mime, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
        LogSent(logger, message.Id, message.LeadId);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "E-mail {MessageId} for lead {LeadId} accepted by the SMTP server")]
    private static partial void LogSent(ILogger logger, string messageId, string? leadId);
}
