using LeadFunctions.Domain.Leads;

namespace LeadFunctions.Domain.Tests.Leads;

public sealed class EmailAddressTests
{
    [Theory]
    [InlineData("  Ada.Lovelace@Example.COM ", "ada.lovelace@example.com")]
    [InlineData("ada+news@mail.example.co.uk", "ada+news@mail.example.co.uk")]
    [InlineData("Ada@Bücher.Example", "ada@xn--bcher-kva.example")]
    [InlineData("ada@xn--bcher-kva.example", "ada@xn--bcher-kva.example")]
    [InlineData("ada@a-b.example", "ada@a-b.example")]
    [InlineData("ada@example.xn--p1ai", "ada@example.xn--p1ai")]
    public void A_deliverable_address_is_normalised_to_lower_case_with_a_punycode_domain(string raw, string expected)
    {
        // Act
        var ok = EmailAddress.TryNormalize(raw, out var normalized);

        // Assert
        Assert.True(ok);
        Assert.Equal(expected, normalized);
    }

    [Fact]
    public void A_local_part_of_64_characters_is_the_longest_accepted()
    {
        // Arrange
        var longest = new string('a', 64) + "@example.com";
        var tooLong = new string('a', 65) + "@example.com";

        // Act + Assert
        Assert.True(EmailAddress.TryNormalize(longest, out _));
        Assert.False(EmailAddress.TryNormalize(tooLong, out _));
    }

    [Fact]
    public void A_domain_label_of_63_characters_is_the_longest_accepted()
    {
        Assert.True(EmailAddress.TryNormalize($"a@{new string('b', 63)}.example", out _));
        Assert.False(EmailAddress.TryNormalize($"a@{new string('b', 64)}.example", out _));
    }

    [Theory]
    [InlineData("a@-example.com")]
    [InlineData("a@example-.com")]
    [InlineData("a@1.1")]
    [InlineData("a@10.0.0.1")]
    [InlineData("a@example.123")]
    [InlineData("a@[127.0.0.1]")]
    [InlineData("a@[IPv6:::1]")]
    [InlineData("a@example.com.")]
    [InlineData("a@.example.com")]
    [InlineData("a@example..com")]
    [InlineData("a@exa_mple.com")]
    [InlineData("a@localhost")]
    [InlineData("a@exa mple.com")]
    [InlineData("a\u202E@example.com")]
    [InlineData("a@exam\u200Bple.com")]
    [InlineData("Ada <ada@example.com>")]
    [InlineData("ada@example.com\r\nBcc: x@evil.example")]
    [InlineData("")]
    [InlineData(null)]
    public void An_address_outside_rfc_5321_or_not_on_the_internet_is_refused(string? raw)
    {
        Assert.False(EmailAddress.TryNormalize(raw, out var normalized));
        Assert.Null(normalized);
    }

    [Fact]
    public void The_unicode_and_punycode_spellings_of_a_domain_are_one_lead()
    {
        EmailAddress.TryNormalize("ada@BÜCHER.example", out var unicode);
        EmailAddress.TryNormalize("ada@xn--bcher-kva.EXAMPLE", out var ascii);

        Assert.Equal(ascii, unicode);
    }
}
