public class Smoke { [Fact] public void T() => Assert.True(1 + 1 == 2); }
