using System.Globalization;
using LeadFunctions.Infrastructure.Lists;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace LeadFunctions.Admin;

/// <summary>
/// <c>POST /api/ops/leads/index/backfill?pages=&amp;continuation=</c> (master/admin key): lists leads the index has no anchor for
/// (leads untouched since the index was introduced), reading up to <c>pages</c> pages of 100 lead rows (default 5, at most 20),
/// and answers <c>{ scanned, indexed, alreadyIndexed, skipped, continuation }</c>; call again with the <c>continuation</c> until it
/// is null. Safe to repeat and to run beside live events: leads already indexed are left alone, and the writes are the projection's
/// own version-checked ones.
/// </summary>
public sealed class BackfillLeadIndex(LeadIndexBackfill backfill)
{
    private const int MaxContinuationLength = 2048;

    [Function(nameof(BackfillLeadIndex))]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "ops/leads/index/backfill")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var pages = LeadIndexBackfill.DefaultPages;
        var pagesText = request.Query["pages"].ToString();
        if (pagesText.Length > 0 &&
            (!int.TryParse(pagesText, NumberStyles.None, CultureInfo.InvariantCulture, out pages) || pages < 1 || pages > LeadIndexBackfill.MaxPages))
        {
            return ListFailedEmails.Problem("pages", $"pages must be a whole number from 1 to {LeadIndexBackfill.MaxPages}.");
        }
        var continuation = request.Query["continuation"].ToString();
        if (continuation.Length > MaxContinuationLength || continuation.Any(char.IsControl))
            return ListFailedEmails.Problem("continuation", "continuation must be the value returned by the previous call.");

        var result = await backfill.RunAsync(continuation.Length == 0 ? null : continuation, pages, cancellationToken);
        return new OkObjectResult(new
        {
            scanned = result.Scanned,
            indexed = result.Indexed,
            alreadyIndexed = result.AlreadyIndexed,
            skipped = result.Skipped,
            continuation = result.Continuation,
        });
    }
}
