using LeadFunctions.Domain.Messaging;
using Microsoft.Extensions.Logging;
using MimeKit;

namespace LeadFunctions.Infrastructure.Email;

/// <summary>
/// Writes each message as <c>&lt;file-safe id&gt;.eml</c>. The name comes from the outbox id and the file is replaced
/// atomically, so sending the same message again leaves exactly one complete file: locally a retry is harmless.
/// </summary>
public sealed partial class FolderEmailSender : IEmailSender
{
    // CRLF as on the wire, whatever the platform, so a file is byte-for-byte what an SMTP server would have received.
    private static readonly FormatOptions WireFormat = CreateWireFormat();

    private readonly TimeProvider _time;
    private readonly ILogger<FolderEmailSender> _logger;

    public FolderEmailSender(string folder, TimeProvider time, ILogger<FolderEmailSender> logger)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        Folder = Path.GetFullPath(folder);
        _time = time;
        _logger = logger;
    }

    public string Folder { get; }

    public async Task SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        var mime = MimeMessageBuilder.Build(message, message.FirstAttemptAt ?? _time.GetUtcNow());

        Directory.CreateDirectory(Folder);
        var path = Path.Combine(Folder, MessageIdentity.FileSafe(message.Id) + ".eml");
        // The temporary name does not end in .eml, so a reader counting messages never sees a half-written one.
        var temp = Path.Combine(Folder, $".{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 16 * 1024, useAsync: true))
            {
                await mime.WriteToAsync(WireFormat, stream, cancellationToken);
                await stream.FlushAsync(cancellationToken);
            }

            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }

        LogWritten(_logger, message.Id, message.LeadId, Path.GetFileName(path));
    }

    private static FormatOptions CreateWireFormat()
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        return format;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "E-mail {MessageId} for lead {LeadId} written to the outbox folder as {FileName}")]
    private static partial void LogWritten(ILogger logger, string messageId, string? leadId, string fileName);
}
