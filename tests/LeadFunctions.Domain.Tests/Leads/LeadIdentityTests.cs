using System.Security.Cryptography;
using System.Text;
using LeadFunctions.Domain.Leads;
using LeadFunctions.Domain.Tracking;

namespace LeadFunctions.Domain.Tests.Leads;

public sealed class LeadIdentityTests
{
    private const string Address = "ada@example.com";
    private static readonly string OtherKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public void Two_keys_give_the_same_address_different_lead_ids()
    {
        var one = new LeadIdentity("k1", TestIdentity.Key);
        var other = new LeadIdentity("k1", OtherKey);

        Assert.NotEqual(one.LeadIdFor(Address), other.LeadIdFor(Address));
        Assert.NotEqual(one.VisitorKeyFor("visitor-1"), other.VisitorKeyFor("visitor-1"));
        Assert.NotEqual(one.RepIdFor(Address), other.RepIdFor(Address));
    }

    [Fact]
    public void The_same_key_gives_an_address_the_same_id_every_time()
    {
        var first = new LeadIdentity("k1", TestIdentity.Key).LeadIdFor(Address);
        var again = new LeadIdentity("k1", TestIdentity.Key).LeadIdFor(Address);

        Assert.Equal(first, again);
    }

    [Fact]
    public void A_lead_id_is_not_the_unkeyed_hash_of_the_address_anyone_could_compute()
    {
        var unkeyed = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Address))[..16]);

        var id = TestIdentity.Instance.LeadIdFor(Address);

        Assert.DoesNotContain(unkeyed, id, StringComparison.Ordinal);
        Assert.NotEqual("l" + unkeyed, id);
        Assert.DoesNotContain("ada", id, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Ids_carry_their_kind_the_derivation_version_and_the_key_id()
    {
        var identity = new LeadIdentity("k2", TestIdentity.Key);

        Assert.True(LeadIdentity.TryParse(identity.LeadIdFor(Address), out var kind, out var version, out var keyId));
        Assert.Equal(('l', LeadIdentity.CurrentVersion, "k2"), (kind, version, keyId));
        Assert.StartsWith("l1_k2_", identity.LeadIdFor(Address), StringComparison.Ordinal);
        Assert.StartsWith("v1_k2_", identity.VisitorKeyFor("visitor-1"), StringComparison.Ordinal);
        Assert.StartsWith("r1_k2_", identity.RepIdFor(Address), StringComparison.Ordinal);
    }

    [Fact]
    public void Ids_are_safe_as_table_keys_and_in_urls()
    {
        foreach (var id in new[] { TestIdentity.Instance.LeadIdFor(Address), TestIdentity.Instance.VisitorKeyFor(" v/1#?\\ "), TestIdentity.Instance.RepIdFor(Address) })
        {
            Assert.All(id, c => Assert.True(char.IsAsciiLetterOrDigit(c) || c == '_', $"'{c}' in {id}"));
            Assert.Equal(id, Uri.EscapeDataString(id));
        }
    }

    [Fact]
    public void A_rep_who_is_also_a_lead_cannot_be_linked_to_that_lead_by_id()
    {
        var lead = TestIdentity.Instance.LeadIdFor(Address);
        var rep = TestIdentity.Instance.RepIdFor(Address);

        Assert.NotEqual(lead[^32..], rep[^32..]);
        Assert.True(LeadIdentity.IsRepId(rep));
        Assert.False(LeadIdentity.IsLeadId(rep));
    }

    [Theory]
    [InlineData("l0123456789abcdef0123456789abcdef")] // an unkeyed id from before versions
    [InlineData("l1_k1_0123456789abcdef0123456789abcde")]
    [InlineData("l1_k1_0123456789abcdef0123456789abcdeF")]
    [InlineData("l2_k1_0123456789abcdef0123456789abcdef")]
    [InlineData("l1_k-1_0123456789abcdef0123456789abcdef")]
    [InlineData("l1__0123456789abcdef0123456789abcdef")]
    [InlineData("v1_k1_0123456789abcdef0123456789abcdef")]
    [InlineData("ada@example.com")]
    [InlineData("")]
    public void Anything_but_a_current_lead_id_is_not_a_lead_id(string value)
    {
        Assert.False(LeadIdentity.IsLeadId(value));
    }

    [Theory]
    [InlineData("k_1")]
    [InlineData("k-1")]
    [InlineData("")]
    [InlineData("a-key-id-much-too-long")]
    public void A_key_id_that_could_break_the_id_format_is_refused(string keyId)
    {
        Assert.Throws<ArgumentException>(() => new LeadIdentity(keyId, TestIdentity.Key));
    }

    [Fact]
    public void The_sample_lead_id_key_is_refused_outside_development_and_named_in_the_message()
    {
        var problem = SigningKeyPolicy.Problem(LeadIdentity.SampleKey, "LeadIds:Key", development: false, "key lead ids");

        Assert.Contains("LeadIds:Key is the public sample key", problem, StringComparison.Ordinal);
        Assert.Null(SigningKeyPolicy.Problem(LeadIdentity.SampleKey, "LeadIds:Key", development: true, "key lead ids"));
    }
}
