using System.Text.Encodings.Web;
using System.Text.Unicode;
using Fluid;
using Microsoft.AspNetCore.Mvc;

namespace LeadFunctions.Tracking;

/// <summary>
/// The small pages signed e-mail links lead to (consent, your data): one HTML shell around a Liquid <c>case</c> of page bodies,
/// rendered through an HTML encoder so every value is escaped. Each feature gives only its bodies.
/// </summary>
internal sealed class LinkPageTemplate(string bodies)
{
    private static readonly HtmlEncoder Html = HtmlEncoder.Create(UnicodeRanges.All);
    private static readonly TemplateOptions Options = new();

    private const string Head = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
        <meta name="robots" content="noindex"><title>{{ title }}</title>
        <style>body{font-family:system-ui,Arial,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#222}button{padding:.6rem 1.2rem;font-size:1rem;margin:.3rem 0}</style>
        </head><body><h1>{{ title }}</h1>
        {%- case page -%}

        """;

    private const string Tail = """

        {%- endcase -%}
        </body></html>
        """;

    private readonly IFluidTemplate _template = new FluidParser().Parse(Head + bodies + Tail);

    public ContentResult Render(string page, string title, int status, string? action = null)
    {
        var context = new TemplateContext(Options);
        context.SetValue("page", page);
        context.SetValue("title", title);
        context.SetValue("action", action ?? "");
        return new ContentResult { StatusCode = status, ContentType = "text/html; charset=utf-8", Content = _template.Render(context, Html) };
    }
}
