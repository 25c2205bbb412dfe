using LeadFunctions.Domain.Capture;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace LeadFunctions.Infrastructure.Capture;

/// <summary>
/// CORS for the capture endpoints, per form: only a configured origin is ever echoed, never <c>*</c>, and credentials are
/// never allowed (the snippet sends the visitor id as a field, not a cookie of ours).
/// </summary>
public static class CaptureCors
{
    public const string AllowedMethods = "POST, OPTIONS";
    public const string AllowedHeaders = "Content-Type, Accept, Idempotency-Key";
    public const int MaxAgeSeconds = 600;

    /// <summary>
    /// The normalised Origin header; null only when absent (a non-browser client). <c>Origin: null</c> comes from sandboxed
    /// frames, <c>file:</c> and <c>data:</c> pages and redirects: any site can produce it, so it is kept as the origin
    /// <see cref="OriginPolicy.Opaque"/>, which no allow-list matches, rather than treated as "no origin".
    /// </summary>
    public static string? RequestOrigin(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var header = request.Headers.Origin.ToString();
        if (string.IsNullOrWhiteSpace(header))
            return null;
        if (string.Equals(header.Trim(), OriginPolicy.Opaque, StringComparison.OrdinalIgnoreCase))
            return OriginPolicy.Opaque;
        return FormCatalog.TryNormalizeOrigin(header, out var origin) ? origin : header.Trim().ToLowerInvariant();
    }

    public static bool IsAllowed(HttpRequest request, string origin, IReadOnlyCollection<string> allowed)
    {
        ArgumentNullException.ThrowIfNull(request);
        return OriginPolicy.Allows(allowed, origin, request.Host.HasValue ? request.Host.Value : null);
    }

    public static void ApplyToResponse(HttpResponse response, string origin)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.Headers.AccessControlAllowOrigin = origin;
        response.Headers.Vary = StringValues.Concat(response.Headers.Vary, "Origin");
        response.Headers.AccessControlExposeHeaders = "Retry-After";
    }

    public static void ApplyToPreflight(HttpResponse response, string origin)
    {
        ArgumentNullException.ThrowIfNull(response);
        ApplyToResponse(response, origin);
        response.Headers.AccessControlAllowMethods = AllowedMethods;
        response.Headers.AccessControlAllowHeaders = AllowedHeaders;
        response.Headers.AccessControlMaxAge = MaxAgeSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
