namespace LeadFunctions.Infrastructure.Email.Acs;

/// <summary>The portal's <c>endpoint=https://&lt;resource&gt;.communication.azure.com/;accesskey=&lt;base64&gt;</c>.</summary>
public sealed class AcsConnectionString
{
    private AcsConnectionString(Uri endpoint, byte[] accessKey)
    {
        Endpoint = endpoint;
        AccessKey = accessKey;
    }

    public Uri Endpoint { get; }

    /// <summary>The decoded key: the HMAC is keyed with these bytes, not with the base64 text.</summary>
    internal byte[] AccessKey { get; }

    /// <summary>Parses the connection string; messages name the setting but never echo the key.</summary>
    public static AcsConnectionString Parse(string connectionString, string settingName = "Email:Acs:ConnectionString")
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        string? endpoint = null;
        string? key = null;
        foreach (var part in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
                continue;
            var name = part[..equals].Trim();
            var value = part[(equals + 1)..].Trim();
            if (name.Equals("endpoint", StringComparison.OrdinalIgnoreCase))
                endpoint = value;
            else if (name.Equals("accesskey", StringComparison.OrdinalIgnoreCase))
                key = value;
        }

        if (string.IsNullOrEmpty(endpoint) || !Uri.TryCreate(endpoint, UriKind.Absolute, out var endpointUri))
            throw new FormatException($"{settingName} must contain 'endpoint=https://<resource>.communication.azure.com/'.");
        if (string.IsNullOrEmpty(key))
            throw new FormatException($"{settingName} must contain 'accesskey=<base64 key>'.");

        byte[] keyBytes;
        try
        {
            keyBytes = Convert.FromBase64String(key);
        }
        catch (FormatException)
        {
            throw new FormatException($"{settingName}: the accesskey is not valid base64.");
        }

        return new AcsConnectionString(endpointUri, keyBytes);
    }
}
