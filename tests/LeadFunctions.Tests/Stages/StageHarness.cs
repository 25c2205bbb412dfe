using System.Text;
using System.Text.Json;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Tests.Nurture;
using LeadFunctions.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace LeadFunctions.Tests.Stages;

/// <summary>What the stage and CRM tests share: leads made by the real processor, requests to the functions, the queue drained through the processor.</summary>
internal static class StageHarness
{
    /// <summary>A lead made an SQL by a demo request, through the processor.</summary>
    public static async Task<string> AnSqlAsync(NurtureHarness harness, string email) =>
        await ALeadAsync(harness, email, FormIntent.DemoRequest);

    public static async Task<string> ALeadAsync(NurtureHarness harness, string email, FormIntent intent)
    {
        await Processor(harness).ProcessAsync(new LeadEvent
        {
            EventId = "form-" + Guid.NewGuid().ToString("N"),
            Type = LeadEventTypes.FormSubmission,
            OccurredAt = harness.Time.GetUtcNow(),
            Email = email,
            FormId = "demo",
            Intent = intent,
            Profile = new Dictionary<string, string> { ["firstName"] = "Sam", ["country"] = "FR" },
        }, CancellationToken.None);
        return TestLeadIds.LeadIdFor(email);
    }

    public static LeadEventProcessor Processor(NurtureHarness harness) => harness.Services.GetRequiredService<LeadEventProcessor>();

    public static async Task<LeadDetails> LeadAsync(NurtureHarness harness, string leadId) =>
        (await harness.Services.GetRequiredService<ILeadDirectory>().FindAsync(leadId, CancellationToken.None))!;

    /// <summary>Takes every message off the queue and applies it, as the queue trigger does; returns the events applied.</summary>
    public static async Task<List<LeadEvent>> DrainAsync(NurtureHarness harness)
    {
        var applied = new List<LeadEvent>();
        while (true)
        {
            var messages = (await harness.Queue.ReceiveMessagesAsync(32)).Value;
            if (messages.Length == 0)
                return applied;
            foreach (var message in messages)
            {
                var e = LeadEventJson.Deserialize(message.Body.ToString());
                await Processor(harness).ProcessAsync(e, CancellationToken.None);
                await harness.Queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                applied.Add(e);
            }
        }
    }

    public static HttpRequest Post(string path, string body, IDictionary<string, string>? headers = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = path;
        context.Request.ContentType = "application/json";
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Request.Body = new MemoryStream(bytes);
        context.Request.ContentLength = bytes.Length;
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
            context.Request.Headers[name] = value;
        context.Connection.RemoteIpAddress = System.Net.IPAddress.Loopback;
        return context.Request;
    }

    public static string Json(object value) => JsonSerializer.Serialize(value, new JsonSerializerOptions(JsonSerializerDefaults.Web));

    public static int StatusOf(IActionResult result) => Assert.IsType<ObjectResult>(result).StatusCode ?? 200;

    /// <summary>The problem body's <c>errors</c> field names, or the detail.</summary>
    public static Microsoft.AspNetCore.Mvc.ProblemDetails Problem(IActionResult result) =>
        Assert.IsType<Microsoft.AspNetCore.Mvc.ProblemDetails>(Assert.IsType<ObjectResult>(result).Value);

    public static IEnumerable<string> ErrorFields(IActionResult result) =>
        ((Dictionary<string, string[]>)Problem(result).Extensions["errors"]!).Keys;
}
