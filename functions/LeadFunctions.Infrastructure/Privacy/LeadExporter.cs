using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using LeadFunctions.Domain.Messaging;
using LeadFunctions.Infrastructure.Email;

namespace LeadFunctions.Infrastructure.Privacy;

/// <summary>
/// Builds the export of everything stored about a lead: every row the <see cref="LeadRowCollector"/> finds, grouped by kind, with the
/// profile and consents parsed, and the names of the e-mail files the folder sender wrote for the lead.
/// </summary>
public interface ILeadExporter
{
    /// <summary>The export document, or null when nothing at all is stored under that id.</summary>
    Task<JsonObject?> ExportAsync(string leadId, CancellationToken cancellationToken);
}

internal sealed class LeadExporter(LeadRowCollector collector, SentMailFiles files, TimeProvider time) : ILeadExporter
{
    public const string FormatVersion = "1";

    public async Task<JsonObject?> ExportAsync(string leadId, CancellationToken cancellationToken)
    {
        var data = await collector.CollectAsync(leadId, cancellationToken);
        if (!data.Exists)
            return null;
        return Build(data, files.For(leadId), time.GetUtcNow());
    }

    internal static JsonObject Build(LeadData data, IReadOnlyList<string> emailFiles, DateTimeOffset now)
    {
        var rows = new JsonObject();
        foreach (var group in data.Rows.GroupBy(r => r.Kind, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
            rows[group.Key] = new JsonArray([.. group.Select(Row)]);

        var document = new JsonObject
        {
            ["format"] = FormatVersion,
            ["leadId"] = data.LeadId,
            ["exportedAt"] = now,
            ["email"] = data.Email,
            ["profile"] = Parse(data.Lead?.ProfileJson, "{}"),
            ["consents"] = Parse(data.Lead?.ConsentsJson, "[]"),
            ["linkedVisitors"] = new JsonArray([.. data.VisitorKeys.Select(v => (JsonNode)v)]),
            ["rows"] = rows,
            ["emailsSent"] = new JsonArray([.. data.Rows.Where(r => r.Kind == RowKinds.Outbox).Select(r => (JsonNode)new JsonObject
            {
                ["messageId"] = r.Entity.GetString("MessageId"),
                ["kind"] = r.Entity.GetString("Kind"),
                ["status"] = r.Entity.GetString("Status"),
                ["sentAt"] = r.Entity.GetDateTimeOffset("SentAt"),
            })]),
            ["emailFiles"] = new JsonArray([.. emailFiles.Select(f => (JsonNode)f)]),
        };
        return document;
    }

    private static JsonObject Row(StoredRow row)
    {
        var properties = new JsonObject();
        foreach (var (key, value) in row.Entity.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (key is "odata.etag" or "PartitionKey" or "RowKey" or "Timestamp")
                continue;
            properties[key] = value switch
            {
                null => null,
                byte[] bytes => Convert.ToBase64String(bytes),
                _ => JsonSerializer.SerializeToNode(value, value.GetType()),
            };
        }
        return new JsonObject
        {
            ["table"] = row.Table,
            ["partitionKey"] = row.Entity.PartitionKey,
            ["rowKey"] = row.Entity.RowKey,
            ["timestamp"] = row.Entity.Timestamp,
            ["properties"] = properties,
        };
    }

    private static JsonNode? Parse(string? json, string empty)
    {
        try
        {
            return JsonNode.Parse(string.IsNullOrEmpty(json) ? empty : json);
        }
        catch (JsonException)
        {
            // Stored as text we cannot parse: hand it over as the text it is.
            return json;
        }
    }
}

/// <summary>
/// The <c>.eml</c> files the folder sender wrote for a lead. Every message id starts with the lead id (<c>{leadId}-{kind}-…</c>),
/// and the file name is the file-safe message id, so the lead's files are the ones named <c>{leadId}-*.eml</c>. No folder
/// (SMTP or ACS) means no files.
/// </summary>
internal sealed class SentMailFiles(IEmailSender sender)
{
    public string? Folder => sender is FolderEmailSender folder ? folder.Folder : null;

    public IReadOnlyList<string> For(string leadId)
    {
        if (Folder is not { } folder || !Directory.Exists(folder) || leadId.Length == 0)
            return [];
        var prefix = MessageIdentity.FileSafe(leadId) + "-";
        return [.. Directory.EnumerateFiles(folder, "*.eml")
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)];
    }

    /// <summary>Deletes the lead's files; returns how many went.</summary>
    public int Delete(string leadId)
    {
        var deleted = 0;
        foreach (var name in For(leadId))
        {
            var path = Path.Combine(Folder!, name);
            if (!File.Exists(path))
                continue;
            File.Delete(path);
            deleted++;
        }
        return deleted;
    }
}
