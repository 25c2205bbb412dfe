using BenchmarkDotNet.Running;
using LeadFunctions.Benchmarks.Load;
using LeadFunctions.Benchmarks.Scoring;

// "load" is the bounded load run of tests/load/load.sh, "hostile" the corpus run of tests/load/hostile.sh; everything else goes to BenchmarkDotNet as before.
if (args is ["load", ..])
    return await LoadRun.RunAsync();
if (args is ["dry-run", ..])
    return await DryRunRun.RunAsync(args);
if (args is ["hostile", ..])
    return await HostileCorpusRun.RunAsync(args);
if (args is ["faults", ..])
    return await FaultsRun.RunAsync(args);
if (args is ["timer-cost-seed", ..])
    return LeadFunctions.Benchmarks.Nurture.NurtureTimerCostBenchmarks.SeedOnly();
if (args is ["timer-cost-time", ..])
    return await LeadFunctions.Benchmarks.Nurture.NurtureTimerCostBenchmarks.TimeAllAsync();
if (args is ["azurite-rowkey", ..])
    return await LeadFunctions.Benchmarks.Nurture.SharedRowKeyRun.RunAsync();
if (args is ["speed-to-lead", ..])
    return await SpeedToLeadRun.RunAsync();

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
