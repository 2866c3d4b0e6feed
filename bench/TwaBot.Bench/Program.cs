using System.Globalization;
using TwaBot.Bench;

// bench/run.sh builds the server and this project in Release, then runs:
//   TwaBot.Bench [send|webhooks|all|overload] [--seconds N] [--warmup N] [--server-warmup N] [--repeat N]
var scenario = "all";
var repeat = 1;
int? measureGiven = null;
var warmUp = 3;
var serverWarmUp = 10;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "send" or "webhooks" or "all" or "overload":
            scenario = args[i];
            break;
        case "--seconds" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var seconds) && seconds > 0:
            measureGiven = seconds;
            i++;
            break;
        case "--warmup" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var warm) && warm >= 0:
            warmUp = warm;
            i++;
            break;
        case "--server-warmup" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var first) && first >= 0:
            serverWarmUp = first;
            i++;
            break;
        case "--repeat" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var times) && times > 0:
            repeat = times;
            i++;
            break;
        default:
            Console.Error.WriteLine($"Unknown argument '{args[i]}'. Usage: TwaBot.Bench [send|webhooks|all|overload] [--seconds N] [--warmup N] [--server-warmup N] [--repeat N]");
            return 2;
    }
}

var root = RepositoryRoot();
if (scenario == "overload")
{
    // Not a comparison but a drill (docs/operations.md, Overload): its phases are a minute each unless --seconds says otherwise.
    return await OverloadScenario.RunAsync(root, TimeSpan.FromSeconds(measureGiven ?? 60), Console.Out);
}

var measure = measureGiven ?? 10;
var length = new RunLength(TimeSpan.FromSeconds(warmUp), TimeSpan.FromSeconds(measure), TimeSpan.FromSeconds(serverWarmUp));
// Runs vary by more than most changes gain on a small shared machine; repeated runs show by how much.
var sendRuns = new List<IReadOnlyList<SendComparison>>();
var webhookRuns = new List<WebhookComparison>();
for (var run = 1; run <= repeat; run++)
{
    if (repeat > 1)
    {
        Console.WriteLine($"===== run {run} of {repeat}");
    }

    var sends = scenario is "send" or "all" ? await SendScenario.RunAsync(root, length, Console.Out) : null;
    var webhooks = scenario is "webhooks" or "all" ? await WebhookScenario.RunAsync(root, length, Console.Out) : null;
    sendRuns.AddRange(sends is null ? [] : [sends]);
    webhookRuns.AddRange(webhooks is null ? [] : [webhooks]);

    Console.WriteLine();
    Console.WriteLine("----- markdown for docs/performance.md -----");
    Console.WriteLine(Report.Markdown(sends, webhooks, length));
}

if (repeat > 1)
{
    Console.WriteLine($"----- spread over the {repeat} runs -----");
    Console.WriteLine(Report.Spread(sendRuns, webhookRuns));
}

return 0;

static string RepositoryRoot()
{
    foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
    {
        for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "TwaBot.sln")))
            {
                return folder.FullName;
            }
        }
    }

    throw new InvalidOperationException("Run the bench from inside the repository: TwaBot.sln not found.");
}
