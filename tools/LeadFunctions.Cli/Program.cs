using LeadFunctions.Cli;

return await new CliCommands(Console.Out, Console.Error, Environment.GetEnvironmentVariable).RunAsync(args, CancellationToken.None);
