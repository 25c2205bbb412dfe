using LeadFunctions.Domain.Tracking;

namespace LeadFunctions.Domain.Tests.Nurture;

public sealed class BotDetectorTests
{
    private const string Browser = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36";
    private static readonly DateTimeOffset SentAt = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);
    private readonly BotDetector _detector = new(TimeSpan.FromSeconds(10), ["acme-linkguard"]);

    [Fact]
    public void A_browser_minutes_after_sending_is_a_person()
    {
        Assert.Equal(BotVerdict.Human, _detector.Judge("GET", Browser, SentAt, SentAt.AddMinutes(5)));
    }

    [Fact]
    public void A_head_request_is_a_probable_bot()
    {
        Assert.Equal(new BotVerdict(true, "head-request"), _detector.Judge("HEAD", Browser, SentAt, SentAt.AddHours(1)));
    }

    [Fact]
    public void A_hit_seconds_after_sending_is_a_probable_bot()
    {
        Assert.Equal(new BotVerdict(true, "too-soon-after-sending"), _detector.Judge("GET", Browser, SentAt, SentAt.AddSeconds(3)));
    }

    [Theory]
    [InlineData("Mozilla/5.0 (compatible; Barracuda Sentinel)")]
    [InlineData("python-requests/2.31")]
    [InlineData("Mozilla/5.0 AppleWebKit HeadlessChrome/120")]
    [InlineData("ACME-LinkGuard/1.0")]
    [InlineData("")]
    public void Known_scanner_agents_and_configured_ones_are_probable_bots(string agent)
    {
        Assert.True(_detector.Judge("GET", agent, SentAt, SentAt.AddHours(1)).ProbableBot);
    }
}
