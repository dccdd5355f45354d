using EdgeCodec.Models;

namespace EdgeCodec.Streaming;

/// <summary>
/// Chooses each frame's quality level (the model's gain-vector rate points), or its rung of the pack's quality ladder
/// (<see cref="ForLadder"/>: levels with and without a residual layer), so that frames fit the link: a frame
/// should take at most <see cref="Headroom"/> of one <see cref="FrameInterval"/> of the estimated throughput, less
/// whatever backlog exceeds one frame interval. The camera asks before encoding and reports the encoded size after.
/// </summary>
/// <remarks>
/// <para>Frame sizes are predicted as <c>pixels x complexity x relativeSize[level]</c>: <c>relativeSize</c> is the
/// model's rate profile across levels (default: ×<see cref="DefaultLevelRatio"/> per level, the ratio of the shipped
/// model on Kodak), and <c>complexity</c> is a smoothed bytes-per-pixel of the scene learned from every observed frame,
/// so one observation at any level updates the prediction for all levels.</para>
/// <para>The choice drops at once to the highest level that fits and climbs at most one level per frame, so a
/// recovering link is probed gently. Before the first observation the level stays at the initial level. Layers are
/// still deferred by the <see cref="IRateController"/> for short dips; this class follows the sustained rate.</para>
/// <para>With <see cref="ForLadder"/> the choices are indices into the pack's <see cref="ModelPack.QualityLadder"/>
/// (<see cref="Settings"/>; encode with <see cref="CurrentSetting"/>), predicted from the rates the pack's export measured
/// for them (<see cref="ModelPack.QualityLadderBitsPerPixel"/>): twice as many rate points as the levels alone, each
/// the best setting the pack knows near its rate.</para>
/// <para>Not thread-safe: one producer calls <see cref="Choose"/> and <see cref="Observe"/> in turn.</para>
/// </remarks>
/// <example>
/// <code>
/// int q = adaptation.Choose(image.Width * image.Height, sender.Link);
/// var encoded = encoder.Encode(image, q, frameIndex: n, firstSequence: sender.NextSequence);
/// adaptation.Observe(q, image.Width * image.Height, await sender.EnqueueAsync(encoded));
/// </code>
/// </example>
public sealed class QualityAdaptation
{
    /// <summary>Size ratio between neighbouring quality levels assumed when no profile is given (shipped model on Kodak: 0.21 → 0.69 bpp over 5 steps).</summary>
    public const double DefaultLevelRatio = 1.27;

    private readonly double[] _relative;
    private double _complexity = double.NaN;

    /// <summary>Creates the adaptation for a model with <paramref name="levels"/> quality levels.</summary>
    /// <param name="levels">Number of quality levels (1..255).</param>
    /// <param name="frameInterval">Time between frames (1 / frame rate).</param>
    /// <param name="relativeSize">Relative frame size per level (positive, non-decreasing), or <see langword="null"/> for
    /// the geometric default.</param>
    /// <param name="initialLevel">Level used until the first observation.</param>
    /// <exception cref="ArgumentOutOfRangeException">A count, interval or level is out of range.</exception>
    /// <exception cref="ArgumentException"><paramref name="relativeSize"/> has the wrong length, a non-positive value or decreases.</exception>
    public QualityAdaptation(int levels, TimeSpan frameInterval, IReadOnlyList<double>? relativeSize = null, int initialLevel = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(levels, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(levels, 255);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(frameInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfNegative(initialLevel);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(initialLevel, levels);
        if (relativeSize is not null && relativeSize.Count != levels)
        {
            throw new ArgumentException($"{relativeSize.Count} relative sizes for {levels} levels.", nameof(relativeSize));
        }

        _relative = new double[levels];
        for (int l = 0; l < levels; l++)
        {
            double r = relativeSize is null ? Math.Pow(DefaultLevelRatio, l) : relativeSize[l];
            if (!(r > 0) || double.IsInfinity(r) || (l > 0 && r < _relative[l - 1]))
            {
                throw new ArgumentException($"Relative size {r} of level {l} must be positive, finite and not below the level before.", nameof(relativeSize));
            }

            _relative[l] = r;
        }

        Levels = levels;
        FrameInterval = frameInterval;
        Current = initialLevel;
        Settings = [.. Enumerable.Range(0, levels).Select(l => new QualitySetting(l, null))];
    }

    /// <summary>
    /// Creates the adaptation over <paramref name="pack"/>'s quality ladder: choice <c>i</c> is
    /// <c>pack.QualityLadder[i]</c>, with the sizes the pack states for its settings (or, from a pack that states
    /// none, ×<see cref="DefaultLevelRatio"/> per setting: the shipped ladder's mean ratio on Kodak).
    /// </summary>
    /// <param name="pack">The model pack the camera encodes with.</param>
    /// <param name="frameInterval">Time between frames (1 / frame rate).</param>
    /// <param name="initialSetting">Index of the ladder setting used until the first observation.</param>
    /// <returns>An adaptation whose <see cref="Settings"/> are the pack's ladder.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The interval or the initial setting is out of range.</exception>
    /// <example>
    /// <code>
    /// var adaptation = QualityAdaptation.ForLadder(pack, TimeSpan.FromSeconds(1 / fps));
    /// int i = adaptation.Choose(pixels, sender.Link);
    /// var encoded = encoder.Encode(image, adaptation.CurrentSetting, frameIndex: n, firstSequence: sender.NextSequence);
    /// adaptation.Observe(i, pixels, await sender.EnqueueAsync(encoded));
    /// </code>
    /// </example>
    public static QualityAdaptation ForLadder(ModelPack pack, TimeSpan frameInterval, int initialSetting = 0)
    {
        ArgumentNullException.ThrowIfNull(pack);
        IReadOnlyList<QualitySetting> ladder = pack.QualityLadder;
        IReadOnlyList<double>? rates = pack.QualityLadderBitsPerPixel.Count == ladder.Count ? pack.QualityLadderBitsPerPixel : null;
        return new QualityAdaptation(ladder.Count, frameInterval, rates, initialSetting) { Settings = ladder };
    }

    /// <summary>Number of choices: quality levels, or ladder settings (<see cref="ForLadder"/>).</summary>
    public int Levels { get; }

    /// <summary>What each choice encodes: <c>(level, no residual layer)</c> per level, or the pack's ladder (<see cref="ForLadder"/>).</summary>
    public IReadOnlyList<QualitySetting> Settings { get; private init; }

    /// <summary>The setting of <see cref="Current"/>: what to encode the next frame with.</summary>
    public QualitySetting CurrentSetting => Settings[Current];

    /// <summary>Time between frames.</summary>
    public TimeSpan FrameInterval { get; }

    /// <summary>The level (or ladder setting) chosen last (the initial one before the first choice).</summary>
    public int Current { get; private set; }

    /// <summary>Share of one frame interval's throughput a frame may take; default 0.8.</summary>
    public double Headroom { get; init; } = 0.8;

    /// <summary>Weight of the newest observation in the scene complexity estimate (0..1]; default 0.5.</summary>
    public double Smoothing { get; init; } = 0.5;

    /// <summary>Predicted bytes of a frame of <paramref name="pixels"/> at <paramref name="level"/>, or NaN before the first observation.</summary>
    /// <param name="level">0 .. <see cref="Levels"/> - 1.</param>
    /// <param name="pixels">Pixels per frame.</param>
    /// <returns>Predicted bytes on the link.</returns>
    public double PredictBytes(int level, long pixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(level);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(level, Levels);
        return _complexity * _relative[level] * pixels;
    }

    /// <summary>Chooses the level of the next frame.</summary>
    /// <param name="pixels">Pixels of the frame.</param>
    /// <param name="link">The sender's <see cref="StreamSender.Link"/>.</param>
    /// <returns>0 .. <see cref="Levels"/> - 1; also stored in <see cref="Current"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pixels"/> is not positive.</exception>
    public int Choose(long pixels, LinkEstimate link)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pixels);
        if (double.IsNaN(_complexity))
        {
            return Current;
        }

        double budget = Budget(link);
        int best = 0;
        for (int l = 1; l < Levels; l++)
        {
            if (PredictBytes(l, pixels) <= budget)
            {
                best = l;
            }
        }

        Current = Math.Min(best, Current + 1);
        return Current;
    }

    /// <summary>
    /// The bytes the next frame may take on the link: <see cref="Headroom"/> of one <see cref="FrameInterval"/> of
    /// the estimated throughput, less the backlog beyond one frame interval (the budget <see cref="Choose"/> fits its
    /// predictions to). A camera that can afford about two encodes per frame fits each frame to it exactly with
    /// <c>EdgeCodecEncoder.EncodeWithin(image, budget, StreamSender.LinkBytes, ...)</c> instead of choosing a
    /// whole level by prediction (docs/streaming.md, "Fitting each frame to the link").
    /// </summary>
    /// <param name="link">The sender's <see cref="StreamSender.Link"/>.</param>
    /// <returns>Bytes on the link, 0 or more (0: the link has no room for a frame now).</returns>
    public long FrameBudget(LinkEstimate link) => (long)Math.Max(0, Math.Floor(Budget(link)));

    private double Budget(LinkEstimate link)
    {
        double perFrame = Math.Max(0, link.Throughput) * FrameInterval.TotalSeconds;
        return (Headroom * perFrame) - Math.Max(0, link.BacklogBytes - perFrame);
    }

    /// <summary>Reports the real size of a frame that was encoded at <paramref name="level"/>.</summary>
    /// <param name="level">The level it was encoded at.</param>
    /// <param name="pixels">Its pixels.</param>
    /// <param name="bytes">Its size on the link (the value <see cref="StreamSender.EnqueueAsync(Codec.EncodedImage, CancellationToken)"/> returns).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    public void Observe(int level, long pixels, long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(level);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(level, Levels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pixels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytes);
        double complexity = bytes / (_relative[level] * pixels);
        double a = Math.Clamp(Smoothing, double.Epsilon, 1);
        _complexity = double.IsNaN(_complexity) ? complexity : ((1 - a) * _complexity) + (a * complexity);
    }
}
