using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using MimeKit;
using SmtpServer;
using SmtpServer.Authentication;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace LeadFunctions.Tests.Email;

/// <summary>A real SMTP server (the SmtpServer package) on 127.0.0.1 and a free port, requiring AUTH, keeping what it receives.</summary>
internal sealed class SmtpTestServer : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly SmtpServer.SmtpServer _server;
    private readonly Task _running;

    private SmtpTestServer(int port, string userName, string password)
    {
        Port = port;
        var options = new SmtpServerOptionsBuilder()
            .ServerName("localhost")
            .Endpoint(endpoint => endpoint
                .Endpoint(new IPEndPoint(IPAddress.Loopback, port))
                .AuthenticationRequired(true)
                .AllowUnsecureAuthentication(true))
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(new Store(Received));
        services.Add(new Authenticator(userName, password));
        _server = new SmtpServer.SmtpServer(options, services);
        _running = _server.StartAsync(_stop.Token);
    }

    public int Port { get; }

    public ConcurrentQueue<ReceivedMail> Received { get; } = new();

    public static SmtpTestServer Start(string userName, string password) => new(FreePort(), userName, password);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _running.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class Store(ConcurrentQueue<ReceivedMail> received) : MessageStore
    {
        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            using var stream = new MemoryStream(buffer.ToArray());
            var message = await MimeMessage.LoadAsync(stream, cancellationToken);
            received.Enqueue(new ReceivedMail(
                context.Authentication.User,
                $"{transaction.From.User}@{transaction.From.Host}",
                [.. transaction.To.Select(to => $"{to.User}@{to.Host}")],
                message));
            return SmtpResponse.Ok;
        }
    }

    private sealed class Authenticator(string userName, string password) : IUserAuthenticator
    {
        public Task<bool> AuthenticateAsync(ISessionContext context, string user, string password1, CancellationToken cancellationToken) =>
            Task.FromResult(user == userName && password1 == password);
    }
}

internal sealed record ReceivedMail(string? AuthenticatedUser, string EnvelopeFrom, IReadOnlyList<string> EnvelopeTo, MimeMessage Message);
