using Azure;
using Azure.Data.Tables;

namespace LeadFunctions.Infrastructure.Storage;

/// <summary>
/// The resume-point rows of resumable sweeps (retention, the access-log sweep): saved after every page with the ETag read, so
/// of two overlapping runs only one advances it and the other learns it lost and stops.
/// </summary>
internal static class ResumePoints
{
    /// <summary>Inserts a new row or replaces the one read (by its ETag) and keeps the new ETag; false when another run won.</summary>
    public static async Task<bool> TrySaveAsync<T>(TableClient table, T state, CancellationToken cancellationToken) where T : class, ITableEntity
    {
        try
        {
            var response = state.ETag == default
                ? await table.AddEntityAsync(state, cancellationToken)
                : await table.UpdateEntityAsync(state, state.ETag, TableUpdateMode.Replace, cancellationToken);
            state.ETag = response.Headers.ETag ?? default;
            return true;
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            return false;
        }
    }
}
