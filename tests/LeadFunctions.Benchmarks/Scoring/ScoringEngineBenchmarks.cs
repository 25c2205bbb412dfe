using BenchmarkDotNet.Attributes;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Scoring;

namespace LeadFunctions.Benchmarks.Scoring;

/// <summary>
/// How fast the engine applies events with a 50-rule model, and what it allocates per event. One operation is one event
/// (each invocation applies <see cref="Batch"/> events to one lead), so the reported Mean is the time per event and
/// Allocated the bytes per event.
/// </summary>
[MemoryDiagnoser]
public class ScoringEngineBenchmarks
{
    private const int Batch = 1024;

    private ScoringEngine _engine = null!;
    private LeadEvent[] _events = null!;
    private LeadScoreState _lead = null!;
    private readonly ScoringOutcome _outcome = new();
    private DateTimeOffset _now;

    [GlobalSetup]
    public void Setup()
    {
        _engine = new ScoringEngine(ScoringModelLoader.Load(BenchmarkModels.FiftyRules()));
        _now = new DateTimeOffset(2025, 3, 3, 9, 0, 0, TimeSpan.Zero);
        _events = BenchmarkModels.Events(Batch, _now);
        _lead = new LeadScoreState { LeadId = new LeadIdentity(LeadIdentity.DefaultKeyId, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32))).LeadIdFor("ada@example.com") };
        if (_engine.Model.EngagementRules.Count != 50)
            throw new InvalidOperationException("The benchmark model must have 50 rules.");
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public double ApplyEvent()
    {
        var total = 0.0;
        var now = _now;
        for (var i = 0; i < _events.Length; i++)
        {
            now = now.AddMinutes(1);
            _engine.Apply(_lead, _events[i], now, _outcome);
            total += _outcome.PointsAwarded;
        }
        _now = now;
        return total;
    }
}
