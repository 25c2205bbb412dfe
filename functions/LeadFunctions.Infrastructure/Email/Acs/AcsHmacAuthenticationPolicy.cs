using Azure.Core;
using Azure.Core.Pipeline;

namespace LeadFunctions.Infrastructure.Email.Acs;

/// <summary>
/// Signs every attempt (it sits in the per-retry part of the pipeline, so a retry gets a fresh <c>x-ms-date</c> and the
/// service's clock-skew check keeps passing).
/// </summary>
internal sealed class AcsHmacAuthenticationPolicy(byte[] accessKey, TimeProvider time) : HttpPipelineSynchronousPolicy
{
    public override void OnSendingRequest(HttpMessage message)
    {
        var request = message.Request;
        byte[] body = [];
        if (request.Content is { } content)
        {
            using var buffer = new MemoryStream();
            content.WriteTo(buffer, message.CancellationToken);
            body = buffer.ToArray();
        }

        var uri = request.Uri.ToUri();
        var date = AcsHmacSigner.FormatDate(time.GetUtcNow());
        var contentHash = AcsHmacSigner.ContentHash(body);
        var stringToSign = AcsHmacSigner.StringToSign(request.Method.Method, uri.PathAndQuery, date, uri.Authority, contentHash);

        request.Headers.SetValue("x-ms-date", date);
        request.Headers.SetValue("x-ms-content-sha256", contentHash);
        request.Headers.SetValue(HttpHeader.Names.Authorization, AcsHmacSigner.AuthorizationHeader(AcsHmacSigner.Signature(stringToSign, accessKey)));
    }
}
