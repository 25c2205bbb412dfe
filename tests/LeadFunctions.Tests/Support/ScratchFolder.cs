namespace LeadFunctions.Tests.Support;

/// <summary>Removes a test's temporary folder after a host that wrote into it has stopped.</summary>
public static class ScratchFolder
{
    /// <summary>
    /// Deletes the folder, trying again for a moment while a stopped host's last file writes (a log flush, a send the stop
    /// cancelled mid-write) land in it: CI once failed a passing test on "Directory not empty" here. A folder still busy after
    /// that stays behind in the temp directory, which is harmless; the test's result is what it asserted.
    /// </summary>
    public static void Delete(string folder)
    {
        for (var attempt = 1; Directory.Exists(folder); attempt++)
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                if (attempt == 10)
                    return;
                Thread.Sleep(200);
            }
        }
    }
}
