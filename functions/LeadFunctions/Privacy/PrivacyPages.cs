using LeadFunctions.Tracking;
using Microsoft.AspNetCore.Mvc;

namespace LeadFunctions.Privacy;

/// <summary>
/// The pages of the "your data" link and of its confirmation link, from one Liquid template rendered through an HTML encoder.
/// GETs only show choices (link scanners fetch every URL in an e-mail); the buttons POST back to the same signed URL.
/// </summary>
internal static class PrivacyPages
{
    private static readonly LinkPageTemplate Template = new("""
        {%- when "choose" -%}
        <p>You can ask for a copy of everything we hold about you, or ask us to erase it. Either way we first send a link to the address this e-mail came to, so only you can ask.</p>
        <form method="post" action="{{ action }}"><input type="hidden" name="request" value="copy"><button type="submit">Send me a copy of my data</button></form>
        <form method="post" action="{{ action }}"><input type="hidden" name="request" value="erase"><button type="submit">Erase my data</button></form>
        {%- when "sent" -%}
        <p>We have sent you an e-mail. Use its link within a day to confirm.</p>
        {%- when "confirm-copy" -%}
        <p>Confirm and we will e-mail you a copy of everything we hold about you.</p>
        <form method="post" action="{{ action }}"><input type="hidden" name="confirm" value="yes"><button type="submit">Yes, send me my data</button></form>
        {%- when "confirm-erase" -%}
        <p>Confirm and we will erase everything we hold about you. This cannot be undone, and you will not hear from us again.</p>
        <form method="post" action="{{ action }}"><input type="hidden" name="confirm" value="yes"><button type="submit">Yes, erase my data</button></form>
        {%- when "done-copy" -%}
        <p>Done. Your data is on its way to your inbox.</p>
        {%- when "done-erase" -%}
        <p>Done. We have erased your data.</p>
        {%- when "already" -%}
        <p>This request was already carried out. Nothing more was changed.</p>
        {%- when "invalid" -%}
        <p>This link is not valid, or it has expired. Use the link in one of our e-mails to ask again.</p>
        {%- when "bad-request" -%}
        <p>Please use the buttons on the page.</p>
        {%- when "unavailable" -%}
        <p>We could not do that just now. Please try again in a minute.</p>
        """);

    public static ContentResult Choose(string action) => Render("choose", "Your data", 200, action);
    public static ContentResult Sent() => Render("sent", "Check your inbox", 200);
    public static ContentResult Confirm(string action, bool erase) => Render(erase ? "confirm-erase" : "confirm-copy", erase ? "Erase your data" : "A copy of your data", 200, action);
    public static ContentResult Done(bool erase) => Render(erase ? "done-erase" : "done-copy", erase ? "Data erased" : "Data sent", 200);
    public static ContentResult Already() => Render("already", "Already done", 409);
    public static ContentResult Invalid() => Render("invalid", "Link not valid", 404);
    public static ContentResult BadRequest() => Render("bad-request", "Your data", 400);
    public static ContentResult Unavailable() => Render("unavailable", "Please try again", 503);

    private static ContentResult Render(string page, string title, int status, string? action = null) =>
        Template.Render(page, title, status, action);
}
