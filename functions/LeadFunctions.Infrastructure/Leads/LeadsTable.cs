using Azure.Data.Tables;

namespace LeadFunctions.Infrastructure.Leads;

/// <summary>The table leads live in (Storage:LeadsTable), typed so it cannot be confused with another table.</summary>
public sealed record LeadsTable(TableClient Client);
