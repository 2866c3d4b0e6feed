using System.Globalization;

namespace TwaBot.Bench;

/// <summary>
/// Where the machine's CPU went during a measured window, in cores: the server, this bench, anything
/// else (other processes, the hypervisor's steal) and idle. On a small shared machine this tells a
/// server limit (server near all cores) from waiting (idle left over) and from a noisy neighbour.
/// </summary>
public sealed record CpuUsage(double Server, double Bench, double Other, double Idle)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"server {Server:0.00}, bench {Bench:0.00}, other {Other:0.00}, idle {Idle:0.00}");

    /// <summary>Samples now, and again when the returned function is called; null where /proc is not there.</summary>
    public static Func<CpuUsage?> Start(int serverPid)
    {
        var before = Snapshot.Take(serverPid);
        return () => before is null || Snapshot.Take(serverPid) is not { } after ? null : Between(before, after);
    }

    private static CpuUsage? Between(Snapshot before, Snapshot after)
    {
        var perCore = (double)(after.Total - before.Total) / Environment.ProcessorCount;
        if (perCore <= 0)
        {
            return null;
        }

        var server = after.Server - before.Server;
        var bench = after.Bench - before.Bench;
        var busy = after.Busy - before.Busy;
        return new CpuUsage(server / perCore, bench / perCore, Math.Max(0, busy - server - bench) / perCore, (after.Idle - before.Idle) / perCore);
    }

    /// <summary>Clock ticks from /proc: the machine's busy and idle time, and the two processes' own.</summary>
    private sealed record Snapshot(long Busy, long Idle, long Server, long Bench)
    {
        public long Total => Busy + Idle;

        public static Snapshot? Take(int serverPid)
        {
            try
            {
                // cpu user nice system idle iowait irq softirq steal …
                var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
                    .Select(field => long.Parse(field, CultureInfo.InvariantCulture)).ToArray();
                return new Snapshot(cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + cpu[7], cpu[3] + cpu[4], ProcessTicks($"/proc/{serverPid}/stat"), ProcessTicks("/proc/self/stat"));
            }
            catch (Exception error) when (error is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                return null;
            }
        }

        /// <summary>utime + stime: fields 14 and 15, counted after the parenthesised command name.</summary>
        private static long ProcessTicks(string path)
        {
            var stat = File.ReadAllText(path);
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        }
    }
}
