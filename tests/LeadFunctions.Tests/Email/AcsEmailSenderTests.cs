using System.Globalization;
using System.Text.Json;
using Azure.Core;
using LeadFunctions.Domain.Messaging;
using LeadFunctions.Infrastructure.Email;
using LeadFunctions.Infrastructure.Email.Acs;
using Microsoft.Extensions.Time.Testing;

namespace LeadFunctions.Tests.Email;

public sealed class AcsEmailSenderTests : IAsyncLifetime
{
    private FakeAcsEmailService _service = null!;
    private readonly ListLogger<AcsEmailSender> _logger = new();

    public async Task InitializeAsync() => _service = await FakeAcsEmailService.StartAsync();

    public async Task DisposeAsync() => await _service.DisposeAsync();

    private AcsEmailSender KeySender(int maxRetries = 3, TimeProvider? time = null) => new(
        new AcsSenderOptions { ConnectionString = _service.ConnectionString, MaxRetries = maxRetries, RetryDelay = TimeSpan.FromMilliseconds(10) },
        time ?? TimeProvider.System,
        _logger,
        clientOptions: _service.ClientOptions());

    [Fact]
    public async Task A_message_is_posted_as_the_documented_json_and_accepted()
    {
        var message = TestEmails.Nurture();

        await KeySender().SendAsync(message, CancellationToken.None);

        var request = Assert.Single(_service.Requests);
        Assert.Equal(202, request.Status);
        using var json = JsonDocument.Parse(request.Body);
        var root = json.RootElement;
        Assert.Equal("news@contoso.example", root.GetProperty("senderAddress").GetString());
        var to = Assert.Single(root.GetProperty("recipients").GetProperty("to").EnumerateArray());
        Assert.Equal("mario.rossi@example.org", to.GetProperty("address").GetString());
        Assert.Equal("Mario Rossi", to.GetProperty("displayName").GetString());
        Assert.Equal("Welcome to Contoso", root.GetProperty("content").GetProperty("subject").GetString());
        Assert.Equal(message.TextBody, root.GetProperty("content").GetProperty("plainText").GetString());
        Assert.Equal(message.HtmlBody, root.GetProperty("content").GetProperty("html").GetString());
        Assert.Equal("sales@contoso.example", Assert.Single(root.GetProperty("replyTo").EnumerateArray()).GetProperty("address").GetString());
        Assert.Equal("List-Unsubscribe=One-Click", root.GetProperty("headers").GetProperty("List-Unsubscribe-Post").GetString());
        Assert.True(root.GetProperty("userEngagementTrackingDisabled").GetBoolean());
        Assert.Contains(_logger.Entries, e => e.Message.Contains("accepted by ACS", StringComparison.Ordinal) && e.Values["OperationLocation"] is string location && location.Contains("/emails/operations/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_429_is_retried_after_the_retry_after_the_service_asked_for_with_the_same_repeatability_headers()
    {
        _service.ThenAnswer(429, ("Retry-After", "1"));

        await KeySender().SendAsync(TestEmails.Nurture(), CancellationToken.None);

        var requests = _service.Requests.ToArray();
        Assert.Equal([429, 202], requests.Select(r => r.Status));
        Assert.Equal(requests[0].Headers["Repeatability-Request-Id"], requests[1].Headers["Repeatability-Request-Id"]);
        Assert.Equal(requests[0].Headers["Repeatability-First-Sent"], requests[1].Headers["Repeatability-First-Sent"]);
        Assert.Equal(requests[0].Headers["Operation-Id"], requests[1].Headers["Operation-Id"]);
        var retry = Assert.Single(_logger.Entries, e => e.EventId.Id == 4301);
        Assert.Equal(429, retry.Values["Status"]);
        Assert.Equal(TimeSpan.FromSeconds(1), retry.Values["Delay"]);
    }

    [Theory]
    [InlineData("retry-after-ms")]
    [InlineData("x-ms-retry-after-ms")]
    public async Task A_429_with_a_millisecond_retry_header_waits_that_long(string header)
    {
        _service.ThenAnswer(429, (header, "250"));

        await KeySender().SendAsync(TestEmails.Nurture(), CancellationToken.None);

        Assert.Equal([429, 202], _service.Requests.Select(r => r.Status));
        Assert.Equal(TimeSpan.FromMilliseconds(250), Assert.Single(_logger.Entries, e => e.EventId.Id == 4301).Values["Delay"]);
    }

    [Fact]
    public async Task Every_try_of_one_attempt_repeats_its_request_id_and_start_and_the_service_sends_it_once()
    {
        // Arrange: the sender and the service share one clock.
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 6, 2, 9, 15, 30, TimeSpan.Zero));
        _service.Time = time;
        var sender = KeySender(time: time);
        var message = TestEmails.Nurture() with { Attempt = new SendAttempt(1, time.GetUtcNow()) };

        // Act: the same attempt twice (a retry on a later run, inside the window), then the next attempt.
        await sender.SendAsync(message, CancellationToken.None);
        time.Advance(TimeSpan.FromMinutes(2));
        await sender.SendAsync(message, CancellationToken.None);
        var second = message with { Attempt = new SendAttempt(2, time.GetUtcNow()) };
        await sender.SendAsync(second, CancellationToken.None);

        // Assert
        var requests = _service.Requests.ToArray();
        var firstId = MessageIdentity.RequestId(message.Id).ToString("D");
        Assert.Equal([firstId, firstId], requests.Take(2).Select(r => r.Headers["Repeatability-Request-Id"]));
        Assert.Equal([firstId, firstId], requests.Take(2).Select(r => r.Headers["Operation-Id"]));
        Assert.All(requests.Take(2), r => Assert.Equal("Mon, 02 Jun 2025 09:15:30 GMT", r.Headers["Repeatability-First-Sent"]));
        Assert.NotEqual(firstId, requests[2].Headers["Repeatability-Request-Id"]);
        Assert.Equal("Mon, 02 Jun 2025 09:17:30 GMT", requests[2].Headers["Repeatability-First-Sent"]);
        Assert.Equal(2, _service.Sent.Count);
    }

    [Fact]
    public async Task An_accepted_send_whose_answer_was_lost_is_retried_with_the_same_id_and_delivered_once()
    {
        // Arrange
        _service.ThenAcceptAndDropTheConnection();
        var message = TestEmails.Nurture() with { Attempt = new SendAttempt(1, DateTimeOffset.UtcNow) };

        // Act
        await KeySender().SendAsync(message, CancellationToken.None);

        // Assert: the retry was answered as the original, not executed again.
        Assert.Equal(2, _service.Requests.Count);
        Assert.Single(_service.Sent);
    }

    [Fact]
    public async Task An_attempt_about_to_leave_the_repeatability_window_is_not_sent_and_asks_for_a_new_attempt()
    {
        // Arrange
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 6, 2, 9, 0, 0, TimeSpan.Zero));
        _service.Time = time;
        var message = TestEmails.Nurture() with { Attempt = new SendAttempt(1, time.GetUtcNow() - TimeSpan.FromMinutes(4.5)) };

        // Act
        var error = await Assert.ThrowsAsync<AcsRepeatabilityWindowClosedException>(() => KeySender(time: time).SendAsync(message, CancellationToken.None));

        // Assert
        Assert.Empty(_service.Requests);
        var failure = EmailFailures.Classify(error);
        Assert.Equal(EmailFailureKind.Transient, failure.Kind);
        Assert.True(failure.StartNewAttempt);
    }

    [Fact]
    public async Task A_first_sent_time_the_service_finds_older_than_five_minutes_is_refused_with_412_as_a_transient_failure()
    {
        // Arrange: our clock is six minutes behind the service's.
        var ours = new FakeTimeProvider(new DateTimeOffset(2025, 6, 2, 9, 0, 0, TimeSpan.Zero));
        _service.Time = new FakeTimeProvider(ours.GetUtcNow() + TimeSpan.FromMinutes(6));
        var message = TestEmails.Nurture() with { Attempt = new SendAttempt(1, ours.GetUtcNow()) };

        // Act
        var error = await Assert.ThrowsAsync<AcsRepeatabilityRejectedException>(() => KeySender(time: ours).SendAsync(message, CancellationToken.None));

        // Assert
        Assert.Equal(412, error.Status);
        Assert.Empty(_service.Sent);
        var failure = EmailFailures.Classify(error);
        Assert.Equal(EmailFailureKind.Transient, failure.Kind);
        Assert.True(failure.StartNewAttempt);
    }

    [Fact]
    public async Task A_rejected_message_fails_with_the_service_status_and_is_not_retried()
    {
        _service.ThenAnswer(400);

        var error = await Assert.ThrowsAsync<Azure.RequestFailedException>(() => KeySender().SendAsync(TestEmails.Nurture(), CancellationToken.None));

        Assert.Equal(400, error.Status);
        Assert.Single(_service.Requests);
        Assert.True(EmailFailures.Classify(error).IsPermanent);
    }

    [Fact]
    public async Task Header_injection_is_refused_before_anything_is_sent()
    {
        var message = TestEmails.Nurture() with { To = [new MailRecipient("mario.rossi@example.org", "Mario\nBcc: victim@example.net")] };

        var error = await Assert.ThrowsAsync<EmailHeaderException>(() => KeySender().SendAsync(message, CancellationToken.None));

        Assert.Empty(_service.Requests);
        Assert.True(EmailFailures.Classify(error).IsPermanent);
    }

    [Fact]
    public async Task With_a_managed_identity_the_request_carries_a_bearer_token_for_the_acs_scope()
    {
        _service.BearerToken = "token-from-entra";
        var credential = new RecordingCredential("token-from-entra");
        var sender = new AcsEmailSender(
            new AcsSenderOptions { Endpoint = _service.Endpoint.ToString() },
            TimeProvider.System,
            _logger,
            credential,
            _service.ClientOptions());

        await sender.SendAsync(TestEmails.Nurture(), CancellationToken.None);

        Assert.Equal(["https://communication.azure.com//.default"], Assert.Single(credential.RequestedScopes));
        var request = Assert.Single(_service.Requests);
        Assert.Equal(202, request.Status);
        Assert.False(request.Headers.ContainsKey("x-ms-content-sha256"));
    }

    [Fact]
    public async Task A_wrong_bearer_token_is_refused_by_the_service()
    {
        _service.BearerToken = "the-right-token";
        var sender = new AcsEmailSender(
            new AcsSenderOptions { Endpoint = _service.Endpoint.ToString(), MaxRetries = 0 },
            TimeProvider.System,
            _logger,
            new RecordingCredential("a-stale-token"),
            _service.ClientOptions());

        var error = await Assert.ThrowsAsync<Azure.RequestFailedException>(() => sender.SendAsync(TestEmails.Nurture(), CancellationToken.None));

        Assert.Equal(401, error.Status);
    }

    /// <summary>Stands in for Microsoft Entra: refuses any scope but ACS's, and remembers what was asked.</summary>
    private sealed class RecordingCredential(string token) : TokenCredential
    {
        private readonly List<string[]> _scopes = [];

        public IReadOnlyList<string[]> RequestedScopes
        {
            get
            {
                lock (_scopes)
                    return [.. _scopes];
            }
        }

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            lock (_scopes)
                _scopes.Add(requestContext.Scopes);
            if (requestContext.Scopes is not ["https://communication.azure.com//.default"])
                throw new InvalidOperationException("Unexpected scope: " + string.Join(' ', requestContext.Scopes));
            return new AccessToken(token, DateTimeOffset.UtcNow.AddHours(1));
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}
