using LeadFunctions.Infrastructure.Email;
using Microsoft.Extensions.Time.Testing;
using MimeKit;

namespace LeadFunctions.Tests.Email;

public sealed class FolderEmailSenderTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "lf-outbox-" + Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 6, 2, 10, 0, 0, TimeSpan.Zero));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
            Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task A_sent_message_is_a_readable_eml_with_both_parts_and_its_headers()
    {
        var sender = new FolderEmailSender(_folder, _time, new ListLogger<FolderEmailSender>());
        var message = TestEmails.Nurture();

        await sender.SendAsync(message, CancellationToken.None);

        var file = Assert.Single(Directory.GetFiles(_folder, "*.eml"));
        var mime = await MimeMessage.LoadAsync(file);
        Assert.Equal("Welcome to Contoso", mime.Subject);
        Assert.Equal("Contoso News", Assert.Single(mime.From.Mailboxes).Name);
        Assert.Equal("news@contoso.example", Assert.Single(mime.From.Mailboxes).Address);
        Assert.Equal("mario.rossi@example.org", Assert.Single(mime.To.Mailboxes).Address);
        Assert.Equal("sales@contoso.example", Assert.Single(mime.ReplyTo.Mailboxes).Address);
        Assert.Equal("multipart/alternative", mime.Body?.ContentType.MimeType);
        Assert.Equal(message.TextBody, mime.TextBody?.ReplaceLineEndings("\n")?.TrimEnd('\n'));
        Assert.Equal(message.HtmlBody, mime.HtmlBody?.ReplaceLineEndings("\n")?.TrimEnd('\n'));
        Assert.Equal("<https://leads.contoso.example/api/unsubscribe?t=abc>", mime.Headers["List-Unsubscribe"]);
        Assert.Equal("List-Unsubscribe=One-Click", mime.Headers["List-Unsubscribe-Post"]);
        Assert.Equal(MessageIdentity.MessageId(message.Id, "contoso.example"), mime.MessageId);
        Assert.Equal(_time.GetUtcNow(), mime.Date);
    }

    [Fact]
    public async Task Sending_the_same_message_again_replaces_its_file_instead_of_adding_one()
    {
        var sender = new FolderEmailSender(_folder, _time, new ListLogger<FolderEmailSender>());
        var message = TestEmails.Nurture();

        await sender.SendAsync(message, CancellationToken.None);
        await sender.SendAsync(message with { Subject = "Welcome to Contoso (retried)" }, CancellationToken.None);

        var file = Assert.Single(Directory.GetFiles(_folder));
        Assert.EndsWith(".eml", file, StringComparison.Ordinal);
        Assert.Equal("Welcome to Contoso (retried)", (await MimeMessage.LoadAsync(file)).Subject);
    }

    [Fact]
    public async Task Different_ids_that_look_alike_once_made_file_safe_keep_separate_files()
    {
        var sender = new FolderEmailSender(_folder, _time, new ListLogger<FolderEmailSender>());

        await sender.SendAsync(TestEmails.Nurture("lead-1/step:1"), CancellationToken.None);
        await sender.SendAsync(TestEmails.Nurture("lead-1:step/1"), CancellationToken.None);

        Assert.Equal(2, Directory.GetFiles(_folder, "*.eml").Length);
    }

    [Fact]
    public async Task The_message_id_and_date_do_not_change_when_a_first_attempt_is_retried_later()
    {
        var sender = new FolderEmailSender(_folder, _time, new ListLogger<FolderEmailSender>());
        var first = new DateTimeOffset(2025, 6, 1, 8, 30, 0, TimeSpan.Zero);
        var message = TestEmails.Nurture() with { FirstAttemptAt = first };

        await sender.SendAsync(message, CancellationToken.None);
        var before = await MimeMessage.LoadAsync(Assert.Single(Directory.GetFiles(_folder)));
        _time.Advance(TimeSpan.FromHours(3));
        await sender.SendAsync(message, CancellationToken.None);
        var after = await MimeMessage.LoadAsync(Assert.Single(Directory.GetFiles(_folder)));

        Assert.Equal(first, after.Date);
        Assert.Equal(before.MessageId, after.MessageId);
    }
}
