using Microsoft.Playwright;

namespace LeadFunctions.Tests.Browser;

/// <summary>
/// The dashboard open in Chromium, with what the page did recorded: CSP violations (the <c>securitypolicyviolation</c> event,
/// collected by a script the browser runs before the page's own), console errors, and any dialog (an XSS probe's alert).
/// </summary>
internal sealed class WorkspaceDashboard
{
    private const string RecordViolations = """
        window.__cspViolations = [];
        document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
        """;

    private readonly List<string> _consoleErrors = [];
    private readonly List<string> _dialogs = [];

    private WorkspaceDashboard(IPage page) => Page = page;

    public IPage Page { get; }

    public IReadOnlyList<string> ConsoleErrors => _consoleErrors;

    public IReadOnlyList<string> Dialogs => _dialogs;

    public IResponse? Response { get; private set; }

    public static async Task<WorkspaceDashboard> OpenAsync(Chromium chromium, Uri baseAddress, Func<IPage, Task>? beforeLoad = null)
    {
        var page = chromium.Context.Pages.Count > 0 ? chromium.Context.Pages[0] : await chromium.Context.NewPageAsync();
        var dashboard = new WorkspaceDashboard(page);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
                dashboard._consoleErrors.Add(message.Text);
        };
        page.Dialog += async (_, dialog) =>
        {
            dashboard._dialogs.Add(dialog.Type + ": " + dialog.Message);
            await dialog.DismissAsync();
        };
        await page.AddInitScriptAsync(RecordViolations);
        if (beforeLoad is not null)
            await beforeLoad(page);
        dashboard.Response = await page.GotoAsync(new Uri(baseAddress, "/api/workspace").ToString(), new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        // The script marks the body once its first loads (identity, overview, funnel, queue) have all answered.
        await page.WaitForSelectorAsync("body[data-ready=true]", new PageWaitForSelectorOptions { State = WaitForSelectorState.Attached });
        return dashboard;
    }

    public async Task<IReadOnlyList<string>> CspViolationsAsync()
    {
        var reported = await Page.EvaluateAsync<string[]>("() => window.__cspViolations || []");
        return [.. reported, .. _consoleErrors.Where(e => e.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))];
    }

    /// <summary>Types the address into the search box, sends it, and opens the lead it finds.</summary>
    public async Task SearchAndOpenAsync(string email)
    {
        await Page.FillAsync("#search-email", email);
        await Page.ClickAsync("#search-form button[type=submit]");
        await Page.WaitForSelectorAsync("#search-results tbody tr button.lead-open");
        await Page.ClickAsync("#search-results tbody tr button.lead-open");
        await Page.WaitForSelectorAsync("#lead-section:not([hidden]) #timeline tbody tr");
    }

    /// <summary>Every cell of the timeline's rows of the given class (<c>ledger</c> or <c>stage</c>), row by row.</summary>
    public async Task<IReadOnlyList<IReadOnlyList<string>>> TimelineAsync(string kind)
    {
        var rows = await Page.EvalOnSelectorAllAsync<string[][]>($"#timeline tbody tr.{kind}", "rows => rows.map(r => Array.from(r.cells, c => c.textContent))");
        return rows;
    }

    public static string ScreenshotPath(string name)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        return Path.Combine(folder, name);
    }
}
