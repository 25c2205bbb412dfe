using System.Text;
using LeadFunctions.Domain.Messaging;
using LeadFunctions.Infrastructure.Email;
using MimeKit;

namespace LeadFunctions.Tests.Email;

public sealed class HeaderInjectionTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "lf-inject-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
            Directory.Delete(_folder, recursive: true);
    }

    private FolderEmailSender Sender() => new(_folder, TimeProvider.System, new ListLogger<FolderEmailSender>());

    [Theory]
    [InlineData("x\r\nBcc: victim@example.net")]
    [InlineData("x\nBcc: victim@example.net")]
    [InlineData("x\rBcc: victim@example.net")]
    public async Task A_header_value_with_a_line_break_is_refused_and_nothing_is_written(string value)
    {
        var message = TestEmails.Nurture() with { Headers = new Dictionary<string, string> { ["List-Unsubscribe"] = value } };

        var error = await Assert.ThrowsAsync<EmailHeaderException>(() => Sender().SendAsync(message, CancellationToken.None));

        Assert.Contains("List-Unsubscribe", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_folder) && Directory.EnumerateFileSystemEntries(_folder).Any());
    }

    [Fact]
    public async Task A_display_name_with_a_line_break_is_refused()
    {
        var message = TestEmails.Nurture() with { To = [new MailRecipient("mario.rossi@example.org", "Mario\r\nBcc: victim@example.net")] };

        var error = await Assert.ThrowsAsync<EmailHeaderException>(() => Sender().SendAsync(message, CancellationToken.None));

        Assert.Contains("To display name", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_address_with_a_line_break_is_refused()
    {
        var message = TestEmails.Nurture() with { ReplyTo = new MailRecipient("sales@contoso.example\r\nBcc: victim@example.net") };

        await Assert.ThrowsAsync<EmailHeaderException>(() => Sender().SendAsync(message, CancellationToken.None));
    }

    [Theory]
    [InlineData("X-Bad Name")]
    [InlineData("X-Bad:Name")]
    [InlineData("X-Bàd")]
    [InlineData("X-Bad\r\nBcc")]
    public async Task A_header_name_outside_printable_ascii_is_refused(string name)
    {
        var message = TestEmails.Nurture() with { Headers = new Dictionary<string, string> { [name] = "value" } };

        await Assert.ThrowsAsync<EmailHeaderException>(() => Sender().SendAsync(message, CancellationToken.None));
    }

    [Theory]
    [InlineData("Bcc")]
    [InlineData("from")]
    [InlineData("Message-ID")]
    public async Task Extra_headers_cannot_replace_the_ones_the_sender_sets(string name)
    {
        var message = TestEmails.Nurture() with { Headers = new Dictionary<string, string> { [name] = "victim@example.net" } };

        await Assert.ThrowsAsync<EmailHeaderException>(() => Sender().SendAsync(message, CancellationToken.None));
    }

    [Fact]
    public async Task A_line_break_in_the_subject_stays_inside_the_subject_header()
    {
        var message = TestEmails.Nurture() with { Subject = "Hello Mario\r\nBcc: victim@example.net\r\n\r\n<script>" };

        await Sender().SendAsync(message, CancellationToken.None);

        var file = Assert.Single(Directory.GetFiles(_folder, "*.eml"));
        var raw = await File.ReadAllTextAsync(file, Encoding.ASCII);
        Assert.Contains("\r\n", raw, StringComparison.Ordinal); // written with the wire's line endings
        var headerBlock = raw[..raw.IndexOf("\r\n\r\n", StringComparison.Ordinal)];
        Assert.DoesNotContain(headerBlock.Split("\r\n"), line => line.StartsWith("Bcc:", StringComparison.OrdinalIgnoreCase));
        var mime = await MimeMessage.LoadAsync(file);
        Assert.Empty(mime.Bcc);
        Assert.Equal("Hello Mario Bcc: victim@example.net <script>", mime.Subject);
    }
    [Fact]
    public async Task An_encoded_word_in_the_subject_or_a_display_name_cannot_be_decoded_into_a_fake_header_line()
    {
        // Arrange: a lead typed an RFC 2047 word that a mail reader would decode to "Eve", CR LF, "Bcc: x@evil.example".
        const string typed = "=?utf-8?q?Eve=0D=0ABcc:_x@evil.example?=";
        var message = TestEmails.Nurture() with { Subject = "Hello " + typed, To = [new MailRecipient("mario.rossi@example.org", typed)] };

        // Act
        await Sender().SendAsync(message, CancellationToken.None);

        // Assert: decoded as a reader would, neither header holds a line break or a Bcc line.
        var mime = await MimeMessage.LoadAsync(Assert.Single(Directory.GetFiles(_folder, "*.eml")));
        var displayName = Assert.IsType<MailboxAddress>(Assert.Single(mime.To)).Name;
        foreach (var decoded in new[] { mime.Subject, displayName })
        {
            Assert.DoesNotContain("\n", decoded, StringComparison.Ordinal);
            Assert.DoesNotContain("=?", decoded, StringComparison.Ordinal);
            Assert.True(decoded!.Contains("= ?utf-8?q?Eve=0D=0ABcc:_x@evil.example?=", StringComparison.Ordinal), decoded);
        }
        Assert.Empty(mime.Bcc);
    }

    [Fact]
    public async Task Bidi_controls_in_the_subject_or_a_display_name_are_dropped_before_sending()
    {
        // Arrange: U+202E makes "Mario\u202Efdp.exe" read as "Marioexe.pdf"; U+2066..U+2069 isolate, U+200B hides.
        var message = TestEmails.Nurture() with
        {
            Subject = "Invoice \u202Efdp.exe\u200B",
            To = [new MailRecipient("mario.rossi@example.org", "\u2066Mario\u2069 \u200FRossi")],
        };

        // Act
        await Sender().SendAsync(message, CancellationToken.None);

        // Assert
        var mime = await MimeMessage.LoadAsync(Assert.Single(Directory.GetFiles(_folder, "*.eml")));
        Assert.Equal("Invoice fdp.exe", mime.Subject);
        Assert.Equal("Mario Rossi", Assert.IsType<MailboxAddress>(Assert.Single(mime.To)).Name);
    }
}
