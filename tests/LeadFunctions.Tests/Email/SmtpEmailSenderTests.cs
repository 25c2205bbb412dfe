using LeadFunctions.Domain.Messaging;
using LeadFunctions.Infrastructure.Email;
using MailKit.Security;

namespace LeadFunctions.Tests.Email;

public sealed class SmtpEmailSenderTests : IAsyncLifetime
{
    private SmtpTestServer _server = null!;

    public Task InitializeAsync()
    {
        _server = SmtpTestServer.Start("relay-user", "relay-secret");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private SmtpEmailSender Sender(string password = "relay-secret") => new(
        new SmtpSenderOptions { Host = "127.0.0.1", Port = _server.Port, UseStartTls = false, UserName = "relay-user", Password = password },
        TimeProvider.System,
        new ListLogger<SmtpEmailSender>());

    [Fact]
    public async Task A_message_arrives_at_the_smtp_server_authenticated_with_both_parts_and_its_headers()
    {
        var message = TestEmails.Nurture() with
        {
            To = [new MailRecipient("mario.rossi@example.org", "Mario Rossi"), new MailRecipient("anna.bianchi@example.org")],
        };

        await Sender().SendAsync(message, CancellationToken.None);

        var received = Assert.Single(_server.Received);
        Assert.Equal("relay-user", received.AuthenticatedUser);
        Assert.Equal("news@contoso.example", received.EnvelopeFrom);
        Assert.Equal(["mario.rossi@example.org", "anna.bianchi@example.org"], received.EnvelopeTo);
        Assert.Equal("Welcome to Contoso", received.Message.Subject);
        Assert.Equal(message.TextBody, received.Message.TextBody?.ReplaceLineEndings("\n")?.TrimEnd('\n'));
        Assert.Equal(message.HtmlBody, received.Message.HtmlBody?.ReplaceLineEndings("\n")?.TrimEnd('\n'));
        Assert.Equal("<https://leads.contoso.example/api/unsubscribe?t=abc>", received.Message.Headers["List-Unsubscribe"]);
        Assert.Equal("sales@contoso.example", Assert.Single(received.Message.ReplyTo.Mailboxes).Address);
        Assert.Equal(MessageIdentity.MessageId(message.Id, "contoso.example"), received.Message.MessageId);
    }

    [Fact]
    public async Task Wrong_credentials_fail_the_send_and_nothing_is_delivered()
    {
        await Assert.ThrowsAsync<AuthenticationException>(() => Sender(password: "wrong").SendAsync(TestEmails.Nurture(), CancellationToken.None));

        Assert.Empty(_server.Received);
    }

    [Fact]
    public async Task A_cancelled_send_stops_without_delivering()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Sender().SendAsync(TestEmails.Nurture(), cancelled.Token));

        Assert.Empty(_server.Received);
    }

    [Fact]
    public async Task Header_injection_is_refused_before_connecting()
    {
        var message = TestEmails.Nurture() with { Headers = new Dictionary<string, string> { ["X-Campaign"] = "a\r\nBcc: victim@example.net" } };

        await Assert.ThrowsAsync<EmailHeaderException>(() => Sender().SendAsync(message, CancellationToken.None));

        Assert.Empty(_server.Received);
    }
}
