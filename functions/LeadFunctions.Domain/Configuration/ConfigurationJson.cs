using System.Text.Json;
using System.Text.Json.Serialization;

namespace LeadFunctions.Domain.Configuration;

/// <summary>
/// How every reviewed configuration file (forms, nurture, sales routing) is read, so they all accept the same JSON: comments and
/// trailing commas are allowed because people edit these files by hand, and an unknown property is an error because a misspelt
/// key silently ignored is a setting that never takes effect.
/// </summary>
internal static class ConfigurationJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>
    /// Reads the file's model; a file that is not valid JSON or is <c>null</c> is thrown at once through <paramref name="fail"/>
    /// (the feature's own exception) with one message naming <paramref name="fileName"/>, since nothing else can be checked.
    /// </summary>
    public static T Read<T>(string json, string fileName, Func<IReadOnlyList<string>, Exception> fail)
        where T : class
    {
        T? model;
        try
        {
            model = JsonSerializer.Deserialize<T>(json, Options);
        }
        catch (JsonException ex)
        {
            throw fail([$"{fileName} is not valid JSON: {ex.Message}"]);
        }
        return model ?? throw fail([$"{fileName} is empty."]);
    }
}
