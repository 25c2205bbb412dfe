using LeadFunctions.LocalHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

var app = LocalHostApp.Build(args);
await app.StartAsync();

Console.WriteLine($"LeadFunctions local host listening on {app.BaseAddress()}");
Console.WriteLine($"Settings: {app.Configuration["LocalHost:SettingsFile"] ?? "(none; environment only)"}");
if (string.Equals(app.Configuration["Email:Sender"] ?? "Folder", "Folder", StringComparison.OrdinalIgnoreCase))
{
    // Relative folders are under the content root, as the e-mail registration resolves them.
    var outbox = Path.Combine(app.Environment.ContentRootPath, app.Configuration["Email:Folder:Path"] ?? ".outbox");
    Console.WriteLine($"Outbox (e-mails are written here as .eml instead of sent): {Path.GetFullPath(outbox)}");
}
if (app.Configuration["LocalHost:DevelopmentUser:Id"] is { Length: > 0 } developmentUser)
    Console.WriteLine($"Workspace: every request is signed in as development user {developmentUser} (roles: {app.Configuration["LocalHost:DevelopmentUser:Roles"]}).");
Console.WriteLine("Press Ctrl-C to stop.");

await app.WaitForShutdownAsync();
