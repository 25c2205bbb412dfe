using Azure.Core;

namespace LeadFunctions.Infrastructure.Email.Acs;

/// <summary>Azure.Core client options for the ACS sender (transport, diagnostics); retries come from <see cref="AcsSenderOptions"/>.</summary>
public sealed class AcsEmailClientOptions : ClientOptions
{
}
