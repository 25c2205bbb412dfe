using LeadFunctions.Infrastructure.Email.Acs;
using Microsoft.Extensions.Options;
using MimeKit;

namespace LeadFunctions.Infrastructure.Email;

/// <summary>Checks the <c>Email</c> section at start, so a typo fails the deployment rather than the first nurture run.</summary>
internal sealed class EmailOptionsValidator : IValidateOptions<EmailOptions>
{
    public ValidateOptionsResult Validate(string? name, EmailOptions options)
    {
        var errors = new List<string>();

        if (!Enum.IsDefined(options.Sender))
            errors.Add("Email:Sender must be Folder, Smtp or Acs.");

        if (string.IsNullOrWhiteSpace(options.FromAddress) || !MailboxAddress.TryParse(options.FromAddress, out var from) || !from.Address.Contains('@', StringComparison.Ordinal))
            errors.Add("Email:FromAddress must be a single e-mail address.");
        else if (options.Sender != EmailSenderKind.Folder && from.Address.EndsWith("@localhost", StringComparison.OrdinalIgnoreCase))
            errors.Add($"Email:FromAddress must be an address on your sending domain when Email:Sender is {options.Sender} (it is still the local default).");

        if (options.FromName is { } fromName && fromName.AsSpan().IndexOfAny('\r', '\n') >= 0)
            errors.Add("Email:FromName must not contain line breaks.");

        if (options.MaxPerMinute < 1)
            errors.Add("Email:MaxPerMinute must be at least 1.");
        if (options.MaxPerHour < 1)
            errors.Add("Email:MaxPerHour must be at least 1.");
        if (options.ReservedPerHour < 0 || options.ReservedPerHour >= Math.Max(1, options.MaxPerHour))
            errors.Add("Email:ReservedPerHour must be at least 0 and below Email:MaxPerHour.");

        switch (options.Sender)
        {
            case EmailSenderKind.Folder:
                if (string.IsNullOrWhiteSpace(options.Folder.Path))
                    errors.Add("Email:Folder:Path must be set when Email:Sender is Folder.");
                else if (options.Folder.Path.AsSpan().IndexOfAny(Path.GetInvalidPathChars()) >= 0)
                    errors.Add("Email:Folder:Path contains characters that are not valid in a path.");
                break;

            case EmailSenderKind.Smtp:
                if (string.IsNullOrWhiteSpace(options.Smtp.Host))
                    errors.Add("Email:Smtp:Host must be set when Email:Sender is Smtp.");
                if (options.Smtp.Port is < 1 or > 65535)
                    errors.Add("Email:Smtp:Port must be between 1 and 65535.");
                if (string.IsNullOrEmpty(options.Smtp.UserName) != string.IsNullOrEmpty(options.Smtp.Password))
                    errors.Add("Email:Smtp:UserName and Email:Smtp:Password must be set together.");
                break;

            case EmailSenderKind.Acs:
                ValidateAcs(options.Acs, errors);
                break;
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateAcs(AcsSenderOptions acs, List<string> errors)
    {
        Uri? fromConnectionString = null;
        if (!string.IsNullOrWhiteSpace(acs.ConnectionString))
        {
            try
            {
                fromConnectionString = AcsConnectionString.Parse(acs.ConnectionString).Endpoint;
            }
            catch (FormatException ex)
            {
                errors.Add(ex.Message);
            }
        }

        if (string.IsNullOrWhiteSpace(acs.Endpoint))
        {
            if (fromConnectionString is null && string.IsNullOrWhiteSpace(acs.ConnectionString))
                errors.Add("Email:Acs:Endpoint must be set (https://<resource>.communication.azure.com) when Email:Sender is Acs and no Email:Acs:ConnectionString is given.");
        }
        else if (!Uri.TryCreate(acs.Endpoint, UriKind.Absolute, out var endpoint) || endpoint.Scheme != Uri.UriSchemeHttps)
        {
            errors.Add("Email:Acs:Endpoint must be an absolute https URL such as https://<resource>.communication.azure.com.");
        }

        if (fromConnectionString is not null && fromConnectionString.Scheme != Uri.UriSchemeHttps)
            errors.Add("Email:Acs:ConnectionString: the endpoint must be an https URL.");

        if (string.IsNullOrWhiteSpace(acs.ApiVersion))
            errors.Add("Email:Acs:ApiVersion must be set.");
        if (acs.MaxRetries is < 0 or > 20)
            errors.Add("Email:Acs:MaxRetries must be between 0 and 20.");
        if (acs.RetryDelay < TimeSpan.Zero || acs.MaxRetryDelay < acs.RetryDelay)
            errors.Add("Email:Acs:RetryDelay must not be negative and Email:Acs:MaxRetryDelay must not be below it.");
    }
}
