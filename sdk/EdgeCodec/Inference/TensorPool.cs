namespace EdgeCodec.Inference;

/// <summary>
/// Exact-size arrays for the tensors of one decoder's (or encoder's) entropy path, latents and analysis buffers,
/// handed back and reused, so that a kept decoder's pictures after the first allocate (almost) nothing but the picture
/// itself, and an encoder's little but its output.
/// </summary>
/// <remarks>
/// <para>
/// Arrays are kept by length, so a tensor over a rented array has exactly its shape's length, like a new one
/// (<see cref="I32Tensor.Data"/> is never longer than the tensor). A rented array is <b>not</b> cleared unless asked:
/// every kernel output writes each element (the scalar references do, and the bit-exact tests hold the SIMD kernels to
/// them on buffers full of an earlier picture's values).
/// </para>
/// <para>
/// Ownership: whoever rents returns, once, after the last read; a returned array may be handed to another thread at
/// once. <see cref="IntegerGraph.Run"/> returns its intermediates itself; its outputs belong to the caller.
/// Thread-safe: a decoder's tiles rent and return in parallel. At most <see cref="MaxRetainedBytes"/> are kept; arrays
/// returned beyond that are left to the garbage collector, as are arrays of a dropped size after <see cref="Clear"/>.
/// </para>
/// </remarks>
internal sealed class TensorPool
{
    private readonly Dictionary<int, Stack<int[]>> _ints = [];
    private readonly Dictionary<int, Stack<byte[]>> _bytes = [];
    private readonly Dictionary<int, Stack<float[]>> _floats = [];
    private readonly Lock _gate = new();
    private long _retainedBytes;
    private (int Width, int Height, int TileSize) _geometry;

    public TensorPool(long maxRetainedBytes = 256L << 20)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetainedBytes);
        MaxRetainedBytes = maxRetainedBytes;
    }

    /// <summary>The most bytes the pool keeps between rents.</summary>
    public long MaxRetainedBytes { get; }

    /// <summary>Bytes the pool holds now (tests and diagnostics).</summary>
    public long RetainedBytes
    {
        get
        {
            lock (_gate)
            {
                return _retainedBytes;
            }
        }
    }

    /// <summary>A new I32 tensor, over a rented array when <paramref name="pool"/> is given.</summary>
    public static I32Tensor I32(TensorPool? pool, int channels, int height, int width, bool clear = false)
        => pool is null
            ? new I32Tensor(channels, height, width)
            : new I32Tensor(channels, height, width, pool.RentInts(checked(channels * height * width), clear));

    /// <summary>A new U8 tensor, over a rented array when <paramref name="pool"/> is given.</summary>
    public static U8Tensor U8(TensorPool? pool, int channels, int height, int width, int zeroPoint)
        => pool is null
            ? new U8Tensor(channels, height, width, zeroPoint)
            : new U8Tensor(channels, height, width, zeroPoint, pool.RentBytes(checked(channels * height * width)));

    /// <summary>An int array of exactly <paramref name="length"/> elements, rented when <paramref name="pool"/> is given (its contents are then arbitrary unless <paramref name="clear"/>), else new and zeroed.</summary>
    public static int[] Ints(TensorPool? pool, int length, bool clear = false) => pool?.RentInts(length, clear) ?? new int[length];

    /// <summary>A float array of exactly <paramref name="length"/> elements, rented when <paramref name="pool"/> is given (contents arbitrary), else new and zeroed.</summary>
    public static float[] Floats(TensorPool? pool, int length) => pool?.RentFloats(length) ?? new float[length];

    /// <summary>An int array of exactly <paramref name="length"/> elements, zeroed when <paramref name="clear"/>.</summary>
    public int[] RentInts(int length, bool clear)
    {
        int[]? array = Take(_ints, length, sizeof(int));
        if (array is null)
        {
            return new int[length];
        }

        if (clear)
        {
            Array.Clear(array);
        }

        return array;
    }

    /// <summary>A byte array of exactly <paramref name="length"/> elements, not cleared.</summary>
    public byte[] RentBytes(int length) => Take(_bytes, length, sizeof(byte)) ?? new byte[length];

    /// <summary>A float array of exactly <paramref name="length"/> elements, not cleared (the encoder's analysis buffers).</summary>
    public float[] RentFloats(int length) => Take(_floats, length, sizeof(float)) ?? new float[length];

    /// <summary>Hands an array back.</summary>
    public void Return(float[] array) => Put(_floats, array, array.Length, sizeof(float));

    /// <summary>Hands an array back (it may be one the pool did not rent: any array of the length serves).</summary>
    public void Return(int[] array) => Put(_ints, array, array.Length, sizeof(int));

    /// <summary>Hands an array back.</summary>
    public void Return(byte[] array) => Put(_bytes, array, array.Length, sizeof(byte));

    /// <summary>Hands a tensor's array back; the tensor must not be read afterwards.</summary>
    public void Return(Tensor tensor)
    {
        switch (tensor)
        {
            case I32Tensor i:
                Return(i.Data);
                break;
            case U8Tensor u:
                Return(u.Data);
                break;
        }
    }

    /// <summary>The picture geometry the pool holds arrays for (<see cref="For"/>); zeros before the first.</summary>
    public (int Width, int Height, int TileSize) Geometry
    {
        get
        {
            lock (_gate)
            {
                return _geometry;
            }
        }
    }

    /// <summary>
    /// The pool for pictures of this geometry: emptied first when it differs from the last one's, so a kept decoder
    /// or encoder holds only what its current stream needs.
    /// </summary>
    public TensorPool For(int width, int height, int tileSize)
    {
        lock (_gate)
        {
            if ((width, height, tileSize) != _geometry)
            {
                ClearLocked();
                _geometry = (width, height, tileSize);
            }
        }

        return this;
    }

    /// <summary>Drops every kept array.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            ClearLocked();
        }
    }

    private void ClearLocked()
    {
        _ints.Clear();
        _bytes.Clear();
        _floats.Clear();
        _retainedBytes = 0;
    }

    private T[]? Take<T>(Dictionary<int, Stack<T[]>> lists, int length, int elementSize)
    {
        lock (_gate)
        {
            if (lists.TryGetValue(length, out var stack) && stack.TryPop(out T[]? array))
            {
                _retainedBytes -= (long)length * elementSize;
                return array;
            }
        }

        return null;
    }

    private void Put<T>(Dictionary<int, Stack<T[]>> lists, T[] array, int length, int elementSize)
    {
        long bytes = (long)length * elementSize;
        lock (_gate)
        {
            if (length == 0 || _retainedBytes + bytes > MaxRetainedBytes)
            {
                return;
            }

            if (!lists.TryGetValue(length, out var stack))
            {
                stack = new Stack<T[]>();
                lists[length] = stack;
            }
            else if (stack.Contains(array))
            {
                // A second return would hand one array to two renters; the stacks are a few arrays deep.
                throw new InvalidOperationException($"An array of {length} elements was returned to the pool twice.");
            }

            stack.Push(array);
            _retainedBytes += bytes;
        }
    }
}
