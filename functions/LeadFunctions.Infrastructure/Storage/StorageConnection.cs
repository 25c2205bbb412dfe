using Azure.Core;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;

namespace LeadFunctions.Infrastructure.Storage;

/// <summary>
/// Reads the <c>LeadStorage</c> connection the way the Functions host reads its own: either a connection string
/// (Azurite locally) or, in Azure, <c>LeadStorage__queueServiceUri</c> / <c>__tableServiceUri</c> with a managed identity
/// (<c>__credential=managedidentity</c>, optional <c>__clientId</c> for a user-assigned one). No keys in Azure.
/// </summary>
public sealed class StorageConnection
{
    private StorageConnection(string? connectionString, Uri? queueServiceUri, Uri? tableServiceUri, TokenCredential? credential)
    {
        ConnectionString = connectionString;
        QueueServiceUri = queueServiceUri;
        TableServiceUri = tableServiceUri;
        Credential = credential;
    }

    public string? ConnectionString { get; }
    public Uri? QueueServiceUri { get; }
    public Uri? TableServiceUri { get; }
    public TokenCredential? Credential { get; }

    public static StorageConnection FromConfiguration(IConfiguration configuration, string name = StorageOptions.ConnectionName)
    {
        var connectionString = configuration[name] ?? configuration.GetConnectionString(name);
        if (!string.IsNullOrWhiteSpace(connectionString))
            return new StorageConnection(connectionString, null, null, null);

        var section = configuration.GetSection(name);
        var queueUri = section["queueServiceUri"];
        var tableUri = section["tableServiceUri"];
        if (string.IsNullOrWhiteSpace(queueUri) || string.IsNullOrWhiteSpace(tableUri))
        {
            throw new InvalidOperationException(
                $"Storage connection '{name}' is not configured: set '{name}' to a connection string (local), " +
                $"or '{name}__queueServiceUri' and '{name}__tableServiceUri' for a managed identity (Azure).");
        }

        var clientId = section["clientId"];
        TokenCredential credential = string.IsNullOrWhiteSpace(clientId)
            ? new DefaultAzureCredential()
            : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId));
        return new StorageConnection(null, ParseUri(name, "queueServiceUri", queueUri), ParseUri(name, "tableServiceUri", tableUri), credential);
    }

    public static StorageConnection FromConnectionString(string connectionString) => new(connectionString, null, null, null);

    public QueueServiceClient CreateQueueServiceClient(QueueClientOptions options) =>
        ConnectionString is not null
            ? new QueueServiceClient(ConnectionString, options)
            : new QueueServiceClient(QueueServiceUri, Credential, options);

    public TableServiceClient CreateTableServiceClient(TableClientOptions options) =>
        ConnectionString is not null
            ? new TableServiceClient(ConnectionString, options)
            : new TableServiceClient(TableServiceUri, Credential, options);

    private static Uri ParseUri(string name, string key, string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri)
            ? uri
            : throw new InvalidOperationException($"Storage connection '{name}__{key}' is not an absolute URI.");
}
