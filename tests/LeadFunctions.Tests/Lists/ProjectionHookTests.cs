using Azure.Data.Tables;
using LeadFunctions.Domain.Events;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Infrastructure.Leads;
using LeadFunctions.Tests.Leads;
using LeadFunctions.Tests.Support;

namespace LeadFunctions.Tests.Lists;

/// <summary>The processor's projection hook: work recorded with the commit, run after it, finished by a redelivery.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ProjectionHookTests(AzuriteFixture azurite)
{
    private const string Email = "hook@example.com";

    [Fact]
    public async Task An_event_that_moves_the_lead_runs_every_projection_once_and_leaves_no_work_row()
    {
        var recorder = new RecordingProjection();
        var processors = new ProcessorFactory(azurite, recorder);
        var processor = processors.New();

        await processor.ProcessAsync(Events.Form(Email, processors.Time.GetUtcNow(), FormIntent.DemoRequest, profile: new() { ["firstName"] = "Ada", ["lastName"] = "Lovelace", ["company"] = "Engines" }), CancellationToken.None);

        var work = Assert.Single(recorder.Works);
        Assert.Null(work.Before);
        Assert.Equal(LifecycleStage.Sql, work.After.Stage);
        Assert.Equal("Ada Lovelace", work.After.Name);
        Assert.Equal("Engines", work.After.Company);
        Assert.Equal(1, work.After.EventCount);
        Assert.Equal(LifecycleStage.Sql, work.Transitions[^1].To);
        Assert.Empty(processors.WorkRows(Email));
    }

    [Fact]
    public async Task An_event_that_changes_nothing_a_projection_sees_records_no_work()
    {
        var recorder = new RecordingProjection();
        var processors = new ProcessorFactory(azurite, recorder);
        var processor = processors.New();
        await processor.ProcessAsync(Events.Form(Email, processors.Time.GetUtcNow(), FormIntent.ContentDownload), CancellationToken.None);
        recorder.Works.Clear();

        // No rule matches a plain e-mail open: engagement, stage, grade and owner stay as they are.
        await processor.ProcessAsync(new LeadEvent { EventId = Events.NewId(), Type = LeadEventTypes.EmailOpen, OccurredAt = processors.Time.GetUtcNow(), Email = Email }, CancellationToken.None);

        Assert.Empty(recorder.Works);
        Assert.Empty(processors.WorkRows(Email));
    }

    [Fact]
    public async Task A_projection_that_fails_keeps_the_work_row_and_the_redelivered_event_finishes_it()
    {
        var recorder = new RecordingProjection { FailuresLeft = 1 };
        var processors = new ProcessorFactory(azurite, recorder);
        var processor = processors.New();
        var form = Events.Form(Email, processors.Time.GetUtcNow(), FormIntent.DemoRequest);

        await Assert.ThrowsAsync<InvalidOperationException>(() => processor.ProcessAsync(form, CancellationToken.None));
        Assert.Single(processors.WorkRows(Email));

        // The queue delivers the message again; the event is applied already, the work is not.
        var result = await processors.New().ProcessAsync(form, CancellationToken.None);

        Assert.Equal(LeadEventOutcome.AlreadyApplied, result.Outcome);
        var work = Assert.Single(recorder.Works);
        Assert.Equal(form.EventId, work.EventId);
        Assert.Empty(processors.WorkRows(Email));
    }

    [Fact]
    public async Task A_redelivery_with_no_pending_work_runs_no_projection_again()
    {
        var recorder = new RecordingProjection();
        var processors = new ProcessorFactory(azurite, recorder);
        var processor = processors.New();
        var form = Events.Form(Email, processors.Time.GetUtcNow(), FormIntent.DemoRequest);
        await processor.ProcessAsync(form, CancellationToken.None);

        await processor.ProcessAsync(form, CancellationToken.None);

        Assert.Single(recorder.Works);
    }
}

/// <summary>Keeps every work it is given; fails the first <see cref="FailuresLeft"/> calls, as a projection whose storage is down would.</summary>
internal sealed class RecordingProjection : ILeadProjection
{
    public List<LeadProjectionWork> Works { get; } = [];
    public int FailuresLeft { get; set; }

    public Task ProjectAsync(LeadProjectionWork work, CancellationToken cancellationToken)
    {
        if (FailuresLeft > 0)
        {
            FailuresLeft--;
            throw new InvalidOperationException("projection storage unavailable");
        }
        lock (Works)
            Works.Add(work);
        return Task.CompletedTask;
    }
}
