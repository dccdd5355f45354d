using EdgeCodec.Inference;

namespace EdgeCodec.Tests.Inference;

/// <summary>Tiny hand-computed cases of every op of docs/model-pack.md, "Integer graphs".</summary>
public sealed class OpTests
{
    /// <summary>requant(v, 2^30, 30) = v: lets a test read raw accumulators.</summary>
    private const int One = 1 << 30;

    [Theory]
    [InlineData(-5, 2, -1)]  // (-5+2)>>2 = -3>>2 = -1
    [InlineData(-6, 2, -1)]  // -1.5 rounds half up to -1
    [InlineData(-7, 2, -2)]
    [InlineData(-2, 2, 0)]   // -0.5 rounds half up to 0
    [InlineData(-3, 2, -1)]
    [InlineData(5, 2, 1)]
    [InlineData(6, 2, 2)]    // 1.5 rounds half up to 2
    [InlineData(1, 1, 1)]
    [InlineData(-1, 1, 0)]
    [InlineData(-(1L << 61), 62, 0)]      // -0.5 at the largest shift still rounds up to 0
    [InlineData(-(1L << 61) - 1, 62, -1)]
    public void RshiftRound_rounds_half_up(long x, int shift, long expected)
    {
        Assert.Equal(expected, IntegerMath.RshiftRound(x, shift));
    }

    [Fact]
    public void Requant_uses_64_bit_products()
    {
        // 100000 * (2^31 - 1) overflows int32 by far; the 64-bit product rounds as the spec says.
        long acc = 100_000;
        int mult = int.MaxValue;
        Assert.Equal(((acc * mult) + (1L << 39)) >> 40, IntegerMath.Requant(acc, mult, 40));
        Assert.Equal(-4, IntegerMath.Requant(-10, 3, 3)); // -30/8 = -3.75 -> (-30+4)>>3 = floor(-3.25) = -4
    }

    [Fact]
    public void Quantize_per_channel_and_per_quality_rows()
    {
        var x = new I32Tensor(2, 1, 3, [-1000, 5, 1000, 16, 17, -17]);
        // Channel 0 scaled by 1/8 (mult 2^30, shift 33), channel 1 by 1/16 (shift 34); zp 128, clamped to 0..255.
        var node = new QuantizeNode("x", "q", 2, 1, [One, One], [33, 34], 128);
        var q = (U8Tensor)node.Execute([x], 0, 1);
        Assert.Equal(128, q.ZeroPoint);
        Assert.Equal(new byte[] { 3, 129, 253, 129, 129, 127 }, q.Data);

        // Two quality rows: row 1 doubles the scale.
        var rows = new QuantizeNode("x", "q", 2, 2, [One, One, One, One], [33, 34, 32, 33], 0);
        var q1 = (U8Tensor)rows.Execute([x], 1, 1);
        Assert.Equal(new byte[] { 0, 1, 250, 2, 2, 0 }, q1.Data);
        Assert.Throws<ArgumentOutOfRangeException>(() => rows.Execute([x], 2, 1));
    }

    [Fact]
    public void Conv3x3_pads_each_input_with_its_own_zero_point()
    {
        // A (zp 0) and B (zp 128), 1 channel each, 2x2. Weight: A's top-left tap = 1, B's bottom-right tap = 2, so
        // out(y, x) = A_pad[y-1, x-1] + 2 * B_pad[y+1, x+1] + bias.
        var a = new U8Tensor(1, 2, 2, 0, [10, 20, 30, 40]);
        var b = new U8Tensor(1, 2, 2, 128, [1, 2, 3, 4]);
        var weight = new sbyte[18];
        weight[0] = 1;       // [o=0, c=0, dy=0, dx=0]
        weight[9 + 8] = 2;   // [o=0, c=1, dy=2, dx=2]
        var conv = new ConvNode(["a", "b"], "out", weight, 1, 2, 3, [-7], [One], [30], false, 0, int.MinValue, int.MaxValue, 0);
        var output = (I32Tensor)conv.Execute([a, b], 0, 1);
        // (0,0): A_pad[-1,-1]=0  + 2*B[1,1]=8         - 7 = 1
        // (0,1): A_pad[-1,0]=0   + 2*B_pad[1,2]=256   - 7 = 249
        // (1,0): A_pad[0,-1]=0   + 2*B_pad[2,1]=256   - 7 = 249
        // (1,1): A[0,0]=10       + 2*B_pad[2,2]=256   - 7 = 259
        Assert.Equal(new[] { 1, 249, 249, 259 }, output.Data);
    }

    [Fact]
    public void Conv_requantizes_with_zero_point_and_clamps()
    {
        var x = new U8Tensor(1, 1, 4, 0, [0, 10, 100, 255]);
        // out = clamp(128 + rshift_round(acc * 2^30, 31), 0, 200) with acc = 3x - 300.
        var conv = new ConvNode(["x"], "y", [3], 1, 1, 1, [-300], [One], [31], true, 128, 0, 200, 0);
        var y = (U8Tensor)conv.Execute([x], 0, 1);
        // acc: -300, -270, 0, 465 -> /2 rounded half up: -150, -135, 0, 233 (232.5 -> 233) -> +128: -22, -7, 128, 361 -> clamp
        Assert.Equal(new byte[] { 0, 0, 128, 200 }, y.Data);
        Assert.Equal(128, y.ZeroPoint);
    }

    [Fact]
    public void Depth_to_space_is_crd()
    {
        // 1x1 conv, 4 output channels = (c+1) * x, on a 1x2 input [10, 100]: out[0, 2y+i, 2x+j] = in[2i+j, y, x].
        var x = new U8Tensor(1, 1, 2, 0, [10, 100]);
        var conv = new ConvNode(["x"], "y", [1, 2, 3, 4], 4, 1, 1, [0, 0, 0, 0], [One, One, One, One], [30, 30, 30, 30], false, 0, int.MinValue, int.MaxValue, 2);
        var y = (I32Tensor)conv.Execute([x], 0, 1);
        Assert.Equal((1, 2, 4), (y.Channels, y.Height, y.Width));
        Assert.Equal(new[] { 10, 20, 100, 200, 30, 40, 300, 400 }, y.Data);
    }

    [Fact]
    public void Add_rescales_rounds_and_saturates()
    {
        var a = new U8Tensor(1, 1, 4, 0, [250, 1, 0, 3]);
        var b = new U8Tensor(1, 1, 4, 128, [255, 128, 0, 127]);
        // out = clamp(0 + rshift_round((a - 0) * 2^15 + (b - 128) * 2^16, 16), 0, 255) = clamp(round_half_up(a/2 + (b-128)))
        var add = new AddNode("a", "b", "c", 1 << 15, 1 << 16, 16, 0, 0, 255);
        var c = (U8Tensor)add.Execute([a, b], 0, 1);
        // 125+127 = 252; 0.5 -> 1; 0 - 128 -> 0 (saturates low); 1.5 - 1 = 0.5 -> 1
        Assert.Equal(new byte[] { 252, 1, 0, 1 }, c.Data);

        var sat = (U8Tensor)new AddNode("a", "b", "c", 1 << 16, 1 << 16, 16, 0, 0, 255).Execute([a, new U8Tensor(1, 1, 4, 0, [250, 0, 0, 0])], 0, 1);
        Assert.Equal(255, sat.Data[0]); // 500 saturates high
    }

    [Fact]
    public void Inputs_of_the_wrong_kind_or_shape_are_argument_errors()
    {
        var conv = new ConvNode(["x"], "y", [1], 1, 1, 1, [0], [One], [30], true, 0, 0, 255, 0);
        Assert.Throws<ArgumentException>(() => conv.Execute([new I32Tensor(1, 1, 1)], 0, 1));
        Assert.Throws<ArgumentException>(() => conv.Execute([new U8Tensor(2, 1, 1, 0)], 0, 1));
        var add = new AddNode("a", "b", "c", 1, 1, 1, 0, 0, 255);
        Assert.Throws<ArgumentException>(() => add.Execute([new U8Tensor(1, 1, 2, 0), new U8Tensor(1, 2, 1, 0)], 0, 1));
    }
}
