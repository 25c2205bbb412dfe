using Microsoft.Playwright;

namespace LeadFunctions.Tests.Browser;

/// <summary>
/// Debian's Chromium, driven headless by Playwright's bundled driver. Playwright never downloads a browser here: it is
/// given the installed one (<c>LEADFUNCTIONS_CHROMIUM</c>, which <c>./test.sh</c> sets, else <c>/usr/bin/chromium</c>).
/// Each instance has its own throw-away profile, so a test starts with no cookies.
/// </summary>
public sealed class Chromium : IAsyncDisposable
{
    public const string ExecutableVariable = "LEADFUNCTIONS_CHROMIUM";
    private const string DebianChromium = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;
    private readonly string _profile;

    private Chromium(IPlaywright playwright, IBrowserContext context, string profile)
    {
        _playwright = playwright;
        Context = context;
        _profile = profile;
    }

    public IBrowserContext Context { get; }

    /// <summary>The browser's executable; a test fails (never skips) when there is none, since <c>./test.sh</c> installs it.</summary>
    public static string Executable()
    {
        var given = Environment.GetEnvironmentVariable(ExecutableVariable);
        if (!string.IsNullOrWhiteSpace(given))
        {
            Assert.True(File.Exists(given), $"{ExecutableVariable} names '{given}', which does not exist.");
            return given;
        }
        Assert.True(File.Exists(DebianChromium),
            $"No browser for the browser tests: set {ExecutableVariable} or install Debian's chromium (apt-get install chromium); ./test.sh does this.");
        return DebianChromium;
    }

    public static async Task<Chromium> LaunchAsync()
    {
        var executable = Executable();
        var profile = Path.Combine(Path.GetTempPath(), "leadfunctions-chromium-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(profile);
        var playwright = await Playwright.CreateAsync();
        try
        {
            // Playwright passes the profile as --user-data-dir and adds --headless and --no-sandbox itself (headless,
            // no Chromium sandbox); the rest keeps the browser from reaching the network on its own.
            var context = await playwright.Chromium.LaunchPersistentContextAsync(profile, new BrowserTypeLaunchPersistentContextOptions
            {
                ExecutablePath = executable,
                Headless = true,
                ChromiumSandbox = false,
                Args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
                ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
                Timeout = 60_000,
            });
            // Bounds on waiting, not on speed: a page on a machine busy with the rest of the suite may take longer than the 30 s default.
            context.SetDefaultTimeout(60_000);
            context.SetDefaultNavigationTimeout(90_000);
            return new Chromium(playwright, context, profile);
        }
        catch
        {
            playwright.Dispose();
            TryDelete(profile);
            throw;
        }
    }

    /// <summary>
    /// Waits until the page's address is <paramref name="url"/>. Not <c>WaitForURLAsync</c> or <c>WaitForLoadStateAsync</c>
    /// after a click: their check-then-subscribe can miss a navigation or load event that arrives in between and then wait
    /// out the whole timeout (playwright-dotnet #3364, seen once in CI). This assertion is polled, so there is nothing to miss.
    /// </summary>
    public static Task ArriveAtAsync(IPage page, string url) =>
        Assertions.Expect(page).ToHaveURLAsync(url, new PageAssertionsToHaveURLOptions { Timeout = 90_000 });

    /// <summary>Waits (polled, see <see cref="ArriveAtAsync"/>) until <paramref name="locator"/> shows exactly <paramref name="text"/>.</summary>
    public static Task ShowsAsync(ILocator locator, string text) =>
        Assertions.Expect(locator).ToHaveTextAsync(text, new LocatorAssertionsToHaveTextOptions { Timeout = 60_000 });

    public async ValueTask DisposeAsync()
    {
        await Context.CloseAsync();
        _playwright.Dispose();
        TryDelete(_profile);
    }

    private static void TryDelete(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
            // Chromium may still be flushing its profile; a leftover temp folder is harmless.
        }
    }
}
