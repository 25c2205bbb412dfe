using LeadFunctions.Domain.Messaging;

namespace LeadFunctions.Tests.Email;

/// <summary>Builds the message a nurture step would hand a sender; tests change what they are about with <c>with</c>.</summary>
internal static class TestEmails
{
    public static EmailMessage Nurture(string id = "lead-42/nurture:welcome/1") => new()
    {
        Id = id,
        LeadId = "lead-42",
        From = new MailRecipient("news@contoso.example", "Contoso News"),
        To = [new MailRecipient("mario.rossi@example.org", "Mario Rossi")],
        ReplyTo = new MailRecipient("sales@contoso.example", "Contoso Sales"),
        Subject = "Welcome to Contoso",
        TextBody = "Hello Mario,\nthanks for your interest.",
        HtmlBody = "<p>Hello <b>Mario</b>,</p><p>thanks for your interest.</p>",
        Headers = new Dictionary<string, string>
        {
            ["List-Unsubscribe"] = "<https://leads.contoso.example/api/unsubscribe?t=abc>",
            ["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click",
        },
    };
}
