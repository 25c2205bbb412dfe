using LeadFunctions.Domain.Capture;

namespace LeadFunctions.Domain.Tests.Capture;

public sealed class CaptureEventIdsTests
{
    [Fact]
    public void The_same_key_for_the_same_form_gives_the_same_id()
    {
        Assert.Equal(CaptureEventIds.FromIdempotencyKey("demo", "key-1"), CaptureEventIds.FromIdempotencyKey("demo", "key-1"));
    }

    [Fact]
    public void Another_form_or_key_gives_another_id()
    {
        var id = CaptureEventIds.FromIdempotencyKey("demo", "key-1");
        Assert.NotEqual(id, CaptureEventIds.FromIdempotencyKey("quote", "key-1"));
        Assert.NotEqual(id, CaptureEventIds.FromIdempotencyKey("demo", "key-2"));
    }

    [Fact]
    public void Derived_ids_are_version_8_uuids_and_fresh_ids_differ()
    {
        var id = Guid.ParseExact(CaptureEventIds.FromIdempotencyKey("demo", "key-1"), "N");
        Assert.Equal(8, id.Version);
        Assert.NotEqual(CaptureEventIds.New(), CaptureEventIds.New());
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("has space", false)]
    [InlineData("ünïcode", false)]
    [InlineData("8e4f2a1c-6f7e-4c35-9b0f-0d7f1c2b3a4d", true)]
    public void Idempotency_keys_are_printable_ascii(string key, bool valid)
    {
        Assert.Equal(valid, CaptureEventIds.IsValidIdempotencyKey(key));
    }
}
