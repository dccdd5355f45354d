namespace EdgeCodec.Streaming.Tests;

// Four classes so xunit runs the 120 seeded scenarios on both cores.
public sealed class ScenarioTestsA
{
    public static TheoryData<int> Seeds => [.. Enumerable.Range(0, 30)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public Task Link_scenario_delivers_every_frame_exactly_once(int seed) => ScenarioRunner.RunAsync(seed);
}

public sealed class ScenarioTestsB
{
    public static TheoryData<int> Seeds => [.. Enumerable.Range(30, 30)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public Task Link_scenario_delivers_every_frame_exactly_once(int seed) => ScenarioRunner.RunAsync(seed);
}

public sealed class ScenarioTestsC
{
    public static TheoryData<int> Seeds => [.. Enumerable.Range(60, 30)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public Task Link_scenario_delivers_every_frame_exactly_once(int seed) => ScenarioRunner.RunAsync(seed);
}

public sealed class ScenarioTestsD
{
    public static TheoryData<int> Seeds => [.. Enumerable.Range(90, 30)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public Task Link_scenario_delivers_every_frame_exactly_once(int seed) => ScenarioRunner.RunAsync(seed);
}

public sealed class ScenarioCoverageTests
{
    [Fact]
    public async Task The_seeded_scenarios_exercise_every_impairment()
    {
        // The link is seeded but thread timing is not (a loaded machine shifts when crashes and deferrals land),
        // so run seeds until every impairment has been seen, within a bound.
        var outcomes = new List<ScenarioRunner.Outcome>();
        foreach (int seed in Enumerable.Range(0, 60))
        {
            outcomes.Add(await ScenarioRunner.RunAsync(seed));
            if (outcomes.Any(o => o.Sender.PacketsRetransmitted > 0) && outcomes.Any(o => o.Duplicates > 0)
                && outcomes.Any(o => o.Connections > 1) && outcomes.Any(o => o.Sender.FramesDeferred > 0 && o.Sender.LayersBackfilled > 0)
                && outcomes.Any(o => o.ReceiverCrashed))
            {
                break;
            }
        }

        Assert.Contains(outcomes, o => o.Sender.PacketsRetransmitted > 0);
        Assert.Contains(outcomes, o => o.Duplicates > 0);
        Assert.Contains(outcomes, o => o.Connections > 1);
        Assert.Contains(outcomes, o => o.Sender.FramesDeferred > 0 && o.Sender.LayersBackfilled > 0);
        Assert.Contains(outcomes, o => o.ReceiverCrashed);
    }
}
