using LeadFunctions.Domain.SalesAlerts;
using Microsoft.Extensions.Options;

namespace LeadFunctions.Infrastructure.Nurture;

/// <summary>
/// Fails the start when the SLA ladder is broken, each error naming the step. Whether each step's template exists is checked with
/// the other templates when the nurture files load (<see cref="NurtureConfiguration.Load"/>).
/// </summary>
internal sealed class SlaLadderValidation : IValidateOptions<SalesAlertOptions>
{
    public ValidateOptionsResult Validate(string? name, SalesAlertOptions options)
    {
        try
        {
            options.GetLadder();
            return ValidateOptionsResult.Success;
        }
        catch (SlaLadderException ex)
        {
            return ValidateOptionsResult.Fail(ex.Errors);
        }
    }

    /// <summary>The templates the ladder's steps name; none when the ladder is broken (that is reported above).</summary>
    public static IEnumerable<string> Templates(SalesAlertOptions options)
    {
        try
        {
            return options.GetLadder().Steps.Select(s => s.Template);
        }
        catch (SlaLadderException)
        {
            return [];
        }
    }
}
