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
        var outcomes = new List<ScenarioRunner.Outcome>();
        foreach (int seed in new[] { 0, 3, 7, 11, 19, 23, 42, 57, 64, 77, 85, 99 })
        {
            outcomes.Add(await ScenarioRunner.RunAsync(seed));
        }

        Assert.Contains(outcomes, o => o.Sender.PacketsRetransmitted > 0);
        Assert.Contains(outcomes, o => o.Duplicates > 0);
        Assert.Contains(outcomes, o => o.Connections > 1);
        Assert.Contains(outcomes, o => o.Sender.FramesDeferred > 0 && o.Sender.LayersBackfilled > 0);
        Assert.Contains(outcomes, o => o.ReceiverCrashed);
    }
}
