using LeadFunctions.Infrastructure.Hosting;
using LeadFunctions.Telemetry;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

var builder = FunctionsApplication.CreateBuilder(args);

builder.ConfigureFunctionsWebApplication();

builder.Services.AddLeadTelemetry();

builder.AddLeadPipeline();

builder.Build().Run();
