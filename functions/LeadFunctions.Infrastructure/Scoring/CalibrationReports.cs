using System.Globalization;
using LeadFunctions.Domain.Scoring;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LeadFunctions.Infrastructure.Scoring;

/// <summary>A calibration request, checked: the bands, the recent window and how many leads one call may scan.</summary>
public sealed record CalibrationQuery(IReadOnlyList<double> BandEdges, int RecentDays, int MaxLeads);

/// <summary>A bad parameter, named.</summary>
public sealed record CalibrationQueryError(string Field, string Message);

/// <summary>The report and how much of the table it covers.</summary>
public sealed record CalibrationResult(CalibrationReport Report, int LeadsScanned, bool Partial);

/// <summary>The one place both endpoints (admin and workspace) get a calibration report from.</summary>
public sealed class CalibrationReports(CalibrationSource source, TimeProvider time)
{
    /// <summary>A call reads at most this many leads (each costs one or two range reads); more and the report is partial.</summary>
    public const int MaxLeadsPerCall = 20_000;
    public const int DefaultMaxLeads = 5_000;

    public static CalibrationQuery? Parse(string? bands, string? recentDays, string? maxLeads, out CalibrationQueryError? error)
    {
        error = null;
        var edges = CalibrationSettings.ParseBands(bands, out var bandError);
        if (edges is null)
        {
            error = new CalibrationQueryError("bands", bandError!);
            return null;
        }
        var days = CalibrationSettings.DefaultRecentDays;
        if (!string.IsNullOrEmpty(recentDays) &&
            (!int.TryParse(recentDays, NumberStyles.None, CultureInfo.InvariantCulture, out days) || days < 1 || days > CalibrationSettings.MaxRecentDays))
        {
            error = new CalibrationQueryError("recentDays", $"recentDays must be a whole number of days from 1 to {CalibrationSettings.MaxRecentDays}.");
            return null;
        }
        var limit = DefaultMaxLeads;
        if (!string.IsNullOrEmpty(maxLeads) &&
            (!int.TryParse(maxLeads, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > MaxLeadsPerCall))
        {
            error = new CalibrationQueryError("maxLeads", $"maxLeads must be a whole number from 1 to {MaxLeadsPerCall}.");
            return null;
        }
        return new CalibrationQuery(edges, days, limit);
    }

    public async Task<CalibrationResult> BuildAsync(CalibrationQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var asOf = time.GetUtcNow();
        var scan = await source.ReadAsync(query.MaxLeads, cancellationToken);
        var report = CalibrationCalculator.Calculate(scan.Leads, new CalibrationSettings(query.BandEdges, query.RecentDays, asOf));
        return new CalibrationResult(report, scan.Scanned, scan.Partial);
    }
}

public static class CalibrationRegistration
{
    /// <summary>Calibration reads the leads table and the scoring model (<c>AddLeadStorage</c>, <c>AddLeadScoring</c>).</summary>
    public static IServiceCollection AddCalibration(this IServiceCollection services)
    {
        services.TryAddSingleton<CalibrationSource>();
        services.TryAddSingleton<CalibrationReports>();
        return services;
    }
}
