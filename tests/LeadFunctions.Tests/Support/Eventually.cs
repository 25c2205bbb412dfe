namespace LeadFunctions.Tests.Support;

/// <summary>Waits for a condition; the bound only stops a broken run from hanging, it asserts nothing about speed.</summary>
public static class Eventually
{
    public static async Task<bool> TrueAsync(Func<Task<bool>> condition, TimeSpan bound, TimeSpan? interval = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTimeOffset.UtcNow + bound;
        while (true)
        {
            if (await condition())
                return true;
            if (DateTimeOffset.UtcNow > deadline)
                return false;
            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(250));
        }
    }
}
