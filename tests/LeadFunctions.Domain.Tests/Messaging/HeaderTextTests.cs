using LeadFunctions.Domain.Messaging.Composition;

namespace LeadFunctions.Domain.Tests.Messaging;

public sealed class HeaderTextTests
{
    [Theory]
    [InlineData("=?utf-8?q?Eve=0D=0ABcc:_x@evil.example?=")]
    [InlineData("Hi =?UTF-8?B?RXZlDQpCY2M6IHhAZXZpbC5leGFtcGxl?= there")]
    [InlineData("=\u200B?utf-8?q?Eve=0D=0ABcc:_x@evil.example?=")]
    public void An_encoded_word_typed_by_a_lead_can_no_longer_be_decoded(string typed)
    {
        // Act
        var cleaned = HeaderText.Clean(typed);

        // Assert
        Assert.DoesNotContain("=?", cleaned, StringComparison.Ordinal);
        Assert.Contains("= ?", cleaned, StringComparison.Ordinal);
        Assert.False(HeaderText.NeedsCleaning(cleaned));
    }

    [Theory]
    [InlineData("Eve\u202Etxt.exe", "Evetxt.exe")]
    [InlineData("\u2066Mallory\u2069 \u202AA\u202B\u202C\u202D", "Mallory A")]
    [InlineData("\u200EEve\u200F", "Eve")]
    [InlineData("Ev\u200Be\uFEFF\u2060", "Eve")]
    [InlineData("Ev\u00ADe\u061C", "Eve")]
    public void Bidi_and_other_format_characters_are_dropped(string typed, string expected)
    {
        Assert.Equal(expected, HeaderText.Clean(typed));
    }

    [Fact]
    public void Plain_names_and_subjects_are_left_alone()
    {
        Assert.Equal("Zoë O'Brien-Łukasz = 3? yes", HeaderText.Clean("Zoë O'Brien-Łukasz = 3? yes"));
        Assert.False(HeaderText.NeedsCleaning("Zoë O'Brien-Łukasz = 3? yes"));
    }

    [Fact]
    public void Cleaning_twice_changes_nothing_more()
    {
        var once = HeaderText.Clean("a\r\n=?utf-8?b?x?= \u202Eb");

        Assert.Equal(once, HeaderText.Clean(once));
    }
}
