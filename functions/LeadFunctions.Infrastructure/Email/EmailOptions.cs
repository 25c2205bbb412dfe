namespace LeadFunctions.Infrastructure.Email;

/// <summary>Which <see cref="Domain.Messaging.IEmailSender"/> delivers the pipeline's e-mail.</summary>
public enum EmailSenderKind
{
    /// <summary>Writes each message as an <c>.eml</c> file; the default, so nothing leaves a developer's machine.</summary>
    Folder,

    /// <summary>Any SMTP server through MailKit, including Azure Communication Services' SMTP relay.</summary>
    Smtp,

    /// <summary>Azure Communication Services Email through its REST API.</summary>
    Acs,
}

/// <summary>E-mail delivery settings, section <c>Email</c> (app settings <c>Email__Sender</c>, <c>Email__Acs__Endpoint</c>, ...).</summary>
public sealed class EmailOptions
{
    public const string SectionName = "Email";

    public EmailSenderKind Sender { get; set; } = EmailSenderKind.Folder;

    /// <summary>The address messages are sent from; with ACS it must belong to a domain connected to the resource.</summary>
    public string FromAddress { get; set; } = "noreply@localhost";

    public string? FromName { get; set; } = "LeadFunctions";

    /// <summary>Client-side ceiling for the SMTP and ACS senders; ACS starts new resources at about 30 a minute.</summary>
    public int MaxPerMinute { get; set; } = 30;

    /// <summary>Client-side ceiling for the SMTP and ACS senders; ACS starts new resources at about 100 an hour.</summary>
    public int MaxPerHour { get; set; } = 100;

    /// <summary>
    /// Of <see cref="MaxPerHour"/>, sends that marketing e-mail may not use, so a burst of nurture cannot leave a new SQL's
    /// sales alert waiting for the next hour.
    /// </summary>
    public int ReservedPerHour { get; set; } = 10;

    public FolderSenderOptions Folder { get; set; } = new();

    public SmtpSenderOptions Smtp { get; set; } = new();

    public AcsSenderOptions Acs { get; set; } = new();
}

public sealed class FolderSenderOptions
{
    /// <summary>Absolute, or relative to the app's content root.</summary>
    public string Path { get; set; } = ".outbox";
}

public sealed class SmtpSenderOptions
{
    public string? Host { get; set; }

    public int Port { get; set; } = 587;

    /// <summary>Require STARTTLS (the default, and what ACS's relay on 587 needs). Off: TLS on connect for 465, otherwise STARTTLS only if offered.</summary>
    public bool UseStartTls { get; set; } = true;

    public string? UserName { get; set; }

    public string? Password { get; set; }
}

public sealed class AcsSenderOptions
{
    /// <summary>The resource endpoint, <c>https://&lt;resource&gt;.communication.azure.com</c>; may come from the connection string instead.</summary>
    public string? Endpoint { get; set; }

    /// <summary><c>endpoint=https://...;accesskey=...</c>. Leave empty in Azure to use a managed identity.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Client id of a user-assigned managed identity; empty means <c>DefaultAzureCredential</c>.</summary>
    public string? ClientId { get; set; }

    /// <summary>The Email REST API version (the current GA one by default).</summary>
    public string ApiVersion { get; set; } = "2025-09-01";

    /// <summary>Our own tracking rewrites links already; ACS's engagement tracking on top would count every click twice.</summary>
    public bool DisableEngagementTracking { get; set; } = true;

    /// <summary>Retries of one send (429, 5xx, network errors); each honours <c>Retry-After</c> when the service sends one.</summary>
    public int MaxRetries { get; set; } = 5;

    /// <summary>First back-off when the service gives no <c>Retry-After</c>; doubles per retry.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(1);
}
