using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;
using LeadFunctions.Infrastructure.Nurture;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Lists;

/// <summary>The query of <c>GET /api/leads</c> as given (each value null when absent).</summary>
public sealed record LeadListRequest(
    string? Stage = null, string? Owner = null, string? MinScore = null, string? Grade = null, string? UpdatedSince = null,
    string? Sort = null, string? Limit = null, string? Continuation = null);

/// <param name="Score">Engagement now, decayed from the indexed value.</param>
/// <param name="SlaDueAt">For an SQL: when the SLA ladder's breach falls due; null otherwise.</param>
public sealed record LeadListItem(
    string LeadId, string? Name, string? Company, LifecycleStage Stage, DateTimeOffset StageChangedAt, string? Owner, double Score,
    string FitGrade, DateTimeOffset UpdatedAt, DateTimeOffset? SlaDueAt);

public sealed record LeadListPage(IReadOnlyList<LeadListItem> Items, string? Continuation);

/// <summary>A page, or the query parameter that was wrong and why.</summary>
public sealed record LeadListResult(LeadListPage? Page, string? InvalidField = null, string? Problem = null);

/// <summary>
/// Lists leads from the lead index, never from the leads table: the query names one index partition (stage, or owner and
/// stage) and a key range (the sort), filters the rest on the server, and reads at most <see cref="MaxQueriesPerPage"/>
/// pages of storage per API page, so a page costs the same whatever the table holds. A sparse filter can give fewer items
/// than asked for, with a continuation: the next page goes on from there rather than this one scanning on.
/// </summary>
public sealed class LeadListService(LeadIndexTable index, ScoringModel model, IOptions<SalesAlertOptions> alerts, TimeProvider time)
{
    public const int DefaultLimit = 25;
    public const int MaxLimit = 100;
    public const int MaxQueriesPerPage = 3;
    public const int MaxOwnerLength = 200;
    public const int MaxContinuationLength = 2048;
    public const LifecycleStage DefaultStage = LifecycleStage.Sql;

    public async Task<LeadListResult> ListAsync(LeadListRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Parse(request) is not { } query)
            return Invalid(request);

        var storageToken = (string?)null;
        if (!string.IsNullOrEmpty(request.Continuation))
        {
            storageToken = ContinuationToken.Read(request.Continuation, query.Hash);
            if (storageToken is null)
                return new LeadListResult(null, "continuation", "continuation must be the value returned with the previous page of this same query.");
        }

        var now = time.GetUtcNow();
        var halfLife = model.HalfLife.TotalSeconds;
        var filter = Filter(query, now, halfLife);
        var rows = new List<LeadIndexEntity>(query.Limit);
        for (var queries = 0; queries < MaxQueriesPerPage && rows.Count < query.Limit; queries++)
        {
            var wanted = query.Limit - rows.Count;
            string? next = null;
            await foreach (var page in index.Client.QueryAsync<LeadIndexEntity>(filter, maxPerPage: wanted, cancellationToken: cancellationToken).AsPages(storageToken, wanted))
            {
                rows.AddRange(page.Values.Take(wanted));
                next = page.ContinuationToken;
                break;
            }
            storageToken = next;
            if (storageToken is null)
                break;
        }

        var deadline = alerts.Value.GetLadder().Deadline;
        var items = rows
            .Select(r => Item(r, now, deadline))
            .Where(i => query.MinScore is not { } min || i.Score >= min)
            .ToList();
        return new LeadListResult(new LeadListPage(items, storageToken is null ? null : ContinuationToken.Write(query.Hash, storageToken)));
    }

    private static LeadListItem Item(LeadIndexEntity row, DateTimeOffset now, TimeSpan slaDeadline)
    {
        var stage = Enum.Parse<LifecycleStage>(row.Stage);
        var score = row.HalfLifeSeconds > 0
            ? row.EngagementValue * Decay.Factor(now - row.EngagementAnchor, TimeSpan.FromSeconds(row.HalfLifeSeconds))
            : row.EngagementValue;
        return new LeadListItem(row.LeadId, row.Name, row.Company, stage, row.StageChangedAt, row.Owner, score, row.FitGrade, row.UpdatedAt,
            stage == LifecycleStage.Sql ? row.StageChangedAt + slaDeadline : null);
    }

    private static string Filter(Query query, DateTimeOffset now, double halfLifeSeconds)
    {
        var (from, to) = query.ByScore ? (LeadIndexRows.ScorePrefix, "s}") : (LeadIndexRows.NewestPrefix, "n}");
        double? minKey = query.MinScore is > 0 ? LeadIndexRows.ScoreKeyAtLeast(query.MinScore.Value, now, halfLifeSeconds) : null;
        // By score, a minimum is the end of the key range: the page stops where the scores fall below it.
        if (query.ByScore && minKey is { } bound)
            to = LeadIndexRows.ScoreKeyBound(bound) + "}";

        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {query.Partition} and RowKey ge {from} and RowKey lt {to}");
        if (query.Grade is { } grade)
            filter += " and " + TableClient.CreateQueryFilter($"FitGrade eq {grade}");
        if (query.UpdatedSince is { } since)
            filter += " and " + TableClient.CreateQueryFilter($"UpdatedAt ge {since}");
        if (!query.ByScore && minKey is { } key)
            filter += " and " + TableClient.CreateQueryFilter($"ScoreKey ge {key}");
        return filter;
    }

    private sealed record Query(string Partition, bool ByScore, double? MinScore, string? Grade, DateTimeOffset? UpdatedSince, int Limit, string Hash);

    private Query? Parse(LeadListRequest r) => Validate(r).Field is null ? Build(r) : null;

    private LeadListResult Invalid(LeadListRequest r)
    {
        var (field, problem) = Validate(r);
        return new LeadListResult(null, field, problem);
    }

    private (string? Field, string? Problem) Validate(LeadListRequest r)
    {
        if (r.Stage is not null && StageOf(r.Stage) is null)
            return ("stage", "stage must be one of " + string.Join(", ", Enum.GetValues<LifecycleStage>().Select(Name)) + ".");
        if (r.Owner is not null && (r.Owner.Trim().Length == 0 || r.Owner.Length > MaxOwnerLength || r.Owner.Any(char.IsControl)))
            return ("owner", $"owner must be a user's id or name of 1 to {MaxOwnerLength} characters.");
        if (r.MinScore is not null && (!double.TryParse(r.MinScore, NumberStyles.Float, CultureInfo.InvariantCulture, out var min) || !double.IsFinite(min) || min < 0))
            return ("minScore", "minScore must be a number of at least 0.");
        if (r.Grade is not null && GradeOf(r.Grade) is null)
            return ("grade", "grade must be one of " + string.Join(", ", model.Grades.Select(g => g.Grade)) + ".");
        if (r.UpdatedSince is not null && !DateTimeOffset.TryParse(r.UpdatedSince, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out _))
            return ("updatedSince", "updatedSince must be an ISO 8601 date or time, e.g. 2026-11-01T00:00:00Z.");
        if (r.Sort is not null && r.Sort is not ("newest" or "score"))
            return ("sort", "sort must be newest or score.");
        if (r.Limit is not null && (!int.TryParse(r.Limit, NumberStyles.None, CultureInfo.InvariantCulture, out var limit) || limit is < 1 or > MaxLimit))
            return ("limit", $"limit must be a whole number from 1 to {MaxLimit}.");
        if (r.Continuation is { Length: > MaxContinuationLength })
            return ("continuation", "continuation must be the value returned with the previous page of this same query.");
        return (null, null);
    }

    private Query Build(LeadListRequest r)
    {
        var stage = r.Stage is null ? DefaultStage : StageOf(r.Stage)!.Value;
        var owner = r.Owner?.Trim();
        double? minScore = r.MinScore is null ? null : double.Parse(r.MinScore, NumberStyles.Float, CultureInfo.InvariantCulture);
        var grade = r.Grade is null ? null : GradeOf(r.Grade);
        DateTimeOffset? since = r.UpdatedSince is null ? null
            : DateTimeOffset.Parse(r.UpdatedSince, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
        var byScore = r.Sort == "score";
        var limit = r.Limit is null ? DefaultLimit : int.Parse(r.Limit, NumberStyles.None, CultureInfo.InvariantCulture);
        var partition = owner is null ? LeadIndexRows.StagePartition(stage) : LeadIndexRows.OwnerPartition(owner, stage);
        // Everything but the page size: a token is only good for the query that made it.
        var hash = ContinuationToken.HashOf(string.Join('\n', partition, byScore ? "score" : "newest",
            minScore?.ToString("R", CultureInfo.InvariantCulture) ?? "", grade ?? "", since?.UtcTicks.ToString(CultureInfo.InvariantCulture) ?? ""));
        return new Query(partition, byScore, minScore, grade, since, limit, hash);
    }

    private static LifecycleStage? StageOf(string text) =>
        Enum.GetValues<LifecycleStage>().Cast<LifecycleStage?>().FirstOrDefault(s => string.Equals(Name(s!.Value), text.Trim(), StringComparison.OrdinalIgnoreCase));

    private string? GradeOf(string text) =>
        model.Grades.Select(g => g.Grade).FirstOrDefault(g => string.Equals(g, text.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>Stage names as the API writes them (LeadResponse.StageName).</summary>
    public static string Name(LifecycleStage stage) => stage switch
    {
        LifecycleStage.Mql => "MQL",
        LifecycleStage.Sql => "SQL",
        _ => stage.ToString(),
    };
}

/// <summary>
/// <c>{base64url(version, query hash, storage position)}.{check}</c>. The storage position is the index's own next keys:
/// lead ids, hashed owners and numbers, never a name. The query hash binds it to its query; the check catches an edited
/// token. It grants nothing: the server filter still names the partition, so any position only reads the query's own rows.
/// </summary>
internal static class ContinuationToken
{
    private const string Version = "1";

    public static string HashOf(string query) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(query)))[..24];

    public static string Write(string queryHash, string storageToken)
    {
        var payload = Version + "\n" + queryHash + "\n" + storageToken;
        return Base64Url(Encoding.UTF8.GetBytes(payload)) + "." + Check(payload);
    }

    /// <summary>The storage position, or null when the token is not one this query wrote.</summary>
    public static string? Read(string token, string queryHash)
    {
        var dot = token.LastIndexOf('.');
        if (dot <= 0)
            return null;
        string payload;
        try
        {
            payload = Encoding.UTF8.GetString(FromBase64Url(token[..dot]));
        }
        catch (FormatException)
        {
            return null;
        }
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Check(payload)), Encoding.ASCII.GetBytes(token[(dot + 1)..])))
            return null;
        var parts = payload.Split('\n', 3);
        return parts.Length == 3 && parts[0] == Version && parts[1] == queryHash && parts[2].Length > 0 ? parts[2] : null;
    }

    private static string Check(string payload) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("lead-list|" + payload)))[..16];

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(s.PadRight(s.Length + (4 - s.Length % 4) % 4, '='));
    }
}
