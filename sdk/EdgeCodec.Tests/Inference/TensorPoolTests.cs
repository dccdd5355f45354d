using EdgeCodec.Inference;

namespace EdgeCodec.Tests.Inference;

/// <summary>The decoder's pool of exact-size arrays: reuse, clearing on request, its cap and its guard.</summary>
public sealed class TensorPoolTests
{
    [Fact]
    public void A_returned_array_is_rented_again_for_its_length_only()
    {
        var pool = new TensorPool();
        int[] a = pool.RentInts(100, clear: false);
        Assert.Equal(100, a.Length);
        a[7] = 42;
        pool.Return(a);
        Assert.Equal(400, pool.RetainedBytes);

        Assert.NotSame(a, pool.RentInts(99, clear: false)); // another length: a new array
        int[] again = pool.RentInts(100, clear: false);
        Assert.Same(a, again);
        Assert.Equal(42, again[7]); // not cleared unless asked
        Assert.Equal(0, pool.RetainedBytes);

        pool.Return(again);
        int[] cleared = pool.RentInts(100, clear: true);
        Assert.Same(a, cleared);
        Assert.All(cleared, x => Assert.Equal(0, x));
    }

    [Fact]
    public void Tensors_over_rented_arrays_have_exactly_their_shapes_length()
    {
        var pool = new TensorPool();
        pool.Return(new byte[2 * 3 * 4]);
        var u8 = TensorPool.U8(pool, 2, 3, 4, zeroPoint: 128);
        Assert.Equal(24, u8.Data.Length);
        Assert.Equal(0, pool.RetainedBytes);

        var i32 = TensorPool.I32(null, 2, 3, 4);
        Assert.Equal(24, i32.Data.Length);
        pool.Return(i32);
        Assert.Same(i32.Data, TensorPool.I32(pool, 4, 3, 2).Data);
    }

    [Fact]
    public void A_second_return_of_one_array_is_refused()
    {
        var pool = new TensorPool();
        byte[] a = new byte[64];
        pool.Return(a);
        Assert.Throws<InvalidOperationException>(() => pool.Return(a));
        Assert.Equal(64, pool.RetainedBytes);
    }

    [Fact]
    public void The_pool_keeps_no_more_than_its_cap_and_clear_drops_everything()
    {
        var pool = new TensorPool(maxRetainedBytes: 1000);
        pool.Return(new int[200]); // 800 B
        pool.Return(new int[100]); // 400 B more would pass the cap: left to the GC
        pool.Return(new byte[200]);
        Assert.Equal(1000, pool.RetainedBytes);
        Assert.NotNull(pool.RentInts(100, clear: false));
        Assert.Equal(1000, pool.RetainedBytes); // the 100-int array was not kept, so that was a new one

        pool.Clear();
        Assert.Equal(0, pool.RetainedBytes);
        Assert.Throws<ArgumentOutOfRangeException>(() => new TensorPool(-1));
    }

    [Fact]
    public void Parallel_renters_never_share_an_array()
    {
        var pool = new TensorPool();
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<int[], int>(ReferenceEqualityComparer.Instance);
        Parallel.For(0, 2000, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            int[] a = pool.RentInts(16, clear: false);
            Assert.True(seen.TryAdd(a, i), "an array was rented twice at once");
            a[0] = i;
            Thread.SpinWait(50);
            Assert.Equal(i, a[0]);
            Assert.True(seen.TryRemove(a, out _));
            pool.Return(a);
        });
        Assert.InRange(pool.RetainedBytes, 64, 64 * 4);
    }
}
