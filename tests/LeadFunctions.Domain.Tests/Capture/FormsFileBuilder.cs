using System.Text.Json.Nodes;

namespace LeadFunctions.Domain.Tests.Capture;

/// <summary>A valid forms file as JSON that a test bends in one place, so each test shows only the mistake it checks.</summary>
internal static class FormsFileBuilder
{
    public static JsonObject ValidForm(string id = "demo", string intent = "demo-request") => new()
    {
        ["id"] = id,
        ["intent"] = intent,
        ["fields"] = new JsonArray(
            new JsonObject { ["name"] = "email", ["type"] = "email", ["required"] = true, ["maxLength"] = 254 },
            new JsonObject { ["name"] = "firstName", ["required"] = true, ["maxLength"] = 50, ["profileField"] = "firstName" },
            new JsonObject { ["name"] = "company", ["required"] = false, ["maxLength"] = 100, ["profileField"] = "company" },
            new JsonObject
            {
                ["name"] = "companySize", ["type"] = "choice", ["required"] = false, ["maxLength"] = 20, ["profileField"] = "companySize",
                ["options"] = new JsonArray("1-10", "11-50", "51-200"),
            },
            new JsonObject { ["name"] = "message", ["type"] = "multiline", ["maxLength"] = 500, ["profileField"] = "message" }),
        ["consent"] = new JsonObject { ["field"] = "consent", ["purpose"] = "marketing-email", ["textVersion"] = "v3", ["required"] = true },
        ["thankYouUrl"] = "https://www.example.com/thanks",
        ["errorUrl"] = "https://www.example.com/oops",
        ["allowedOrigins"] = new JsonArray("https://www.example.com"),
        ["honeypotField"] = "website",
    };

    public static string File(params JsonObject[] forms) =>
        new JsonObject { ["version"] = "7", ["forms"] = new JsonArray(forms.Select(f => (JsonNode)f).ToArray()) }.ToJsonString();
}
