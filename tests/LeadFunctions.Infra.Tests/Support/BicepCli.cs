using System.Diagnostics;
using System.Reflection;

namespace LeadFunctions.Infra.Tests.Support;

/// <summary>The result of one Bicep CLI run: what a person running it would see.</summary>
public sealed record BicepRun(int ExitCode, string StandardOutput, string StandardError)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}";
}

/// <summary>
/// Runs the Bicep CLI restored from the NuGet package <c>Azure.Bicep.CommandLine.linux-x64</c> (tools/bicep),
/// so the checks need nothing installed beyond the .NET SDK.
/// </summary>
public static class BicepCli
{
    private static readonly Lazy<string> Executable = new(Locate);

    public static string RepoRoot { get; } = Metadata("RepoRoot");

    public static string InfraDirectory => Path.Combine(RepoRoot, "infra");

    public static string MainBicep => Path.Combine(InfraDirectory, "main.bicep");

    public static BicepRun Run(params string[] arguments)
    {
        var start = new ProcessStartInfo(Executable.Value)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = InfraDirectory,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        // The CLI runs fine without ICU; telemetry off so a test run never phones home.
        start.Environment["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1";
        start.Environment["BICEP_TRACING_ENABLED"] = "false";

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return new BicepRun(process.ExitCode, stdout.Result, stderr.Result);
    }

    private static string Locate()
    {
        var packageRoot = Metadata("BicepCli");
        var path = Path.Combine(packageRoot, "tools", "bicep");
        if (!File.Exists(path))
            throw new InvalidOperationException($"The Bicep CLI is not at {path}; restore tests/LeadFunctions.Infra.Tests so the Azure.Bicep.CommandLine.linux-x64 package is extracted.");

        // Some package extractions drop the execute bit; put it back rather than failing on a permission error.
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(path);
            const UnixFileMode execute = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
            if ((mode & UnixFileMode.UserExecute) == 0)
                File.SetUnixFileMode(path, mode | execute);
        }
        return path;
    }

    private static string Metadata(string key) =>
        typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().SingleOrDefault(a => a.Key == key)?.Value is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"Assembly metadata '{key}' is missing; it is written by LeadFunctions.Infra.Tests.csproj.");
}
