using Microsoft.AspNetCore.Mvc;

namespace LeadFunctions.Tracking;

/// <summary>
/// The pages of the double opt-in link, from one Liquid template rendered through an HTML encoder, so every value is escaped.
/// The GET page only asks (link scanners fetch every URL in an e-mail); its button POSTs back to the same signed URL.
/// </summary>
internal static class ConsentPages
{
    private static readonly LinkPageTemplate Template = new("""
        {%- when "ask" -%}
        <p>Please confirm that you want to receive our e-mails at the address this link was sent to.</p>
        <form method="post" action="{{ action }}"><input type="hidden" name="confirm" value="yes"><button type="submit">Yes, send me your e-mails</button></form>
        <p>If you did not ask for them, close this page: nothing is sent without your confirmation.</p>
        {%- when "done" -%}
        <p>Thank you. You will receive our e-mails; every one has a link to unsubscribe.</p>
        {%- when "expired" -%}
        <p>This confirmation link has expired. Sign up again on our website and we will send you a new one.</p>
        {%- when "invalid" -%}
        <p>This link is not valid. It may have been copied incompletely.</p>
        {%- when "bad-request" -%}
        <p>Please use the button on the confirmation page.</p>
        {%- when "unavailable" -%}
        <p>We could not record your confirmation just now. Please try again in a minute.</p>
        """);

    public static ContentResult Ask(string action) => Render("ask", "Confirm your subscription", 200, action);
    public static ContentResult Done() => Render("done", "Subscription confirmed", 200);
    public static ContentResult Expired() => Render("expired", "Link expired", 410);
    public static ContentResult Invalid() => Render("invalid", "Link not valid", 404);
    public static ContentResult BadRequest() => Render("bad-request", "Confirm your subscription", 400);
    public static ContentResult Unavailable() => Render("unavailable", "Please try again", 503);

    private static ContentResult Render(string page, string title, int status, string? action = null) =>
        Template.Render(page, title, status, action);
}
