using EdgeCodec.Imaging;

namespace EdgeCodec.Evaluation;

/// <summary>Sweeps codecs over images and builds an <see cref="RdReport"/>.</summary>
/// <remarks>
/// For every image, codec and quality level: encode, decode, and measure bytes, bits per pixel, PSNR and
/// MS-SSIM. Then per codec an average curve (the Kodak convention: mean bpp and mean quality over the images
/// at each quality level) and the Bjontegaard deltas of <see cref="TestCodec"/> against every other codec,
/// both on the average curves and averaged over per-image curves.
/// </remarks>
public sealed class RdEvaluator
{
    private readonly IRdCodec[] _codecs;

    /// <summary>Creates an evaluator for the given codecs.</summary>
    /// <param name="codecs">Codecs to sweep, with distinct names.</param>
    /// <exception cref="ArgumentNullException"><paramref name="codecs"/> or an element is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="codecs"/> is empty or names repeat.</exception>
    public RdEvaluator(IReadOnlyList<IRdCodec> codecs)
    {
        ArgumentNullException.ThrowIfNull(codecs);
        _codecs = codecs.ToArray();
        if (_codecs.Length == 0)
        {
            throw new ArgumentException("At least one codec is needed.", nameof(codecs));
        }

        foreach (IRdCodec codec in _codecs)
        {
            ArgumentNullException.ThrowIfNull(codec, nameof(codecs));
        }

        if (_codecs.Select(c => c.Name).Distinct(StringComparer.Ordinal).Count() != _codecs.Length)
        {
            throw new ArgumentException("Codec names must be distinct.", nameof(codecs));
        }
    }

    /// <summary>Name of the codec whose BD-rates are reported; null (the default) means the first codec.</summary>
    public string? TestCodec { get; init; }

    /// <summary>How many images are processed at once; defaults to <see cref="Environment.ProcessorCount"/>.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Runs the sweep.</summary>
    /// <param name="images">Named images, each at least <see cref="Metrics.MsSsimMinDimension"/> on both sides; names must be distinct.</param>
    /// <param name="progress">Optional; receives one report per finished run, from worker threads.</param>
    /// <param name="cancellationToken">Stops the sweep between runs.</param>
    /// <returns>The report.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="images"/> or an image is null.</exception>
    /// <exception cref="ArgumentException">No images, repeated names, an image too small for MS-SSIM, or
    /// <see cref="TestCodec"/> names no codec.</exception>
    /// <exception cref="InvalidOperationException">A codec returned a reconstruction of the wrong size.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public RdReport Evaluate(
        IReadOnlyList<(string Name, RgbImage Image)> images,
        IProgress<RdProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        ValidateImages(images);
        string testCodec = TestCodec ?? _codecs[0].Name;
        if (!_codecs.Any(c => c.Name == testCodec))
        {
            throw new ArgumentException($"Test codec '{testCodec}' is not among the codecs.", nameof(images));
        }

        int total = images.Count * _codecs.Sum(c => c.QualityLevels.Count);
        int completed = 0;
        var results = new RdImageResult[images.Count];
        var options = new ParallelOptions
        {
            MaxDegreeOfParallelism = Math.Max(1, MaxDegreeOfParallelism),
            CancellationToken = cancellationToken,
        };
        Parallel.For(0, images.Count, options, i =>
        {
            (string name, RgbImage image) = images[i];
            var measurements = new List<RdMeasurement>();
            foreach (IRdCodec codec in _codecs)
            {
                foreach (int quality in codec.QualityLevels)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    measurements.Add(Measure(codec, image, quality));
                    int done = Interlocked.Increment(ref completed);
                    progress?.Report(new RdProgress(done, total, name, codec.Name, quality));
                }
            }

            results[i] = new RdImageResult(name, image.Width, image.Height, measurements);
        });

        RdCurve[] curves = _codecs.Select(c => AverageCurve(c, results)).ToArray();
        RdComparison[] comparisons = _codecs
            .Where(c => c.Name != testCodec)
            .Select(anchor => Compare(anchor.Name, testCodec, curves, results))
            .ToArray();
        return new RdReport(
            RdReport.CurrentSchemaVersion,
            DateTimeOffset.UtcNow,
            testCodec,
            results,
            curves,
            comparisons,
            Summarise(testCodec, images.Count, comparisons, results));
    }

    private static void ValidateImages(IReadOnlyList<(string Name, RgbImage Image)> images)
    {
        if (images.Count == 0)
        {
            throw new ArgumentException("At least one image is needed.", nameof(images));
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach ((string name, RgbImage image) in images)
        {
            ArgumentNullException.ThrowIfNull(name, nameof(images));
            ArgumentNullException.ThrowIfNull(image, nameof(images));
            if (!names.Add(name))
            {
                throw new ArgumentException($"Image name '{name}' appears twice.", nameof(images));
            }

            if (image.Width < Metrics.MsSsimMinDimension || image.Height < Metrics.MsSsimMinDimension)
            {
                throw new ArgumentException(
                    $"Image '{name}' is {image.Width}x{image.Height}; MS-SSIM needs both sides >= {Metrics.MsSsimMinDimension}.",
                    nameof(images));
            }
        }
    }

    private static RdMeasurement Measure(IRdCodec codec, RgbImage image, int quality)
    {
        RdSample sample = codec.Run(image, quality);
        RgbImage recon = sample.Reconstruction;
        if (recon.Width != image.Width || recon.Height != image.Height)
        {
            throw new InvalidOperationException(
                $"Codec '{codec.Name}' at quality {quality} returned {recon.Width}x{recon.Height} for a {image.Width}x{image.Height} image.");
        }

        double psnr = Math.Min(Metrics.Psnr(image, recon), RdMeasurement.MaxDecibels);
        double msSsim = Metrics.MsSsim(image, recon);
        return new RdMeasurement(
            codec.Name,
            quality,
            sample.Bytes,
            sample.Bytes * 8.0 / image.PixelCount,
            psnr,
            msSsim,
            RdPoint.MsSsimToDb(msSsim),
            sample.EncodeSeconds,
            sample.DecodeSeconds)
        {
            Counts = sample.Counts,
        };
    }

    private static RdCurve AverageCurve(IRdCodec codec, RdImageResult[] results)
    {
        var points = new List<RdCurvePoint>();
        foreach (int quality in codec.QualityLevels)
        {
            RdMeasurement[] atQuality = results
                .Select(r => r.Measurements.First(m => m.Codec == codec.Name && m.Quality == quality))
                .ToArray();
            double msSsim = atQuality.Average(m => m.MsSsim);
            points.Add(new RdCurvePoint(
                quality,
                atQuality.Average(m => m.Bpp),
                atQuality.Average(m => m.Psnr),
                msSsim,
                RdPoint.MsSsimToDb(msSsim)));
        }

        return new RdCurve(codec.Name, points);
    }

    private static RdComparison Compare(string anchor, string test, RdCurve[] curves, RdImageResult[] results)
    {
        IReadOnlyList<RdPoint> anchorCurve = curves.First(c => c.Codec == anchor).ToPoints();
        IReadOnlyList<RdPoint> testCurve = curves.First(c => c.Codec == test).ToPoints();

        var perImage = new List<double>();
        foreach (RdImageResult result in results)
        {
            RdPoint[] a = result.Measurements.Where(m => m.Codec == anchor).Select(m => m.ToPoint()).ToArray();
            RdPoint[] t = result.Measurements.Where(m => m.Codec == test).Select(m => m.ToPoint()).ToArray();
            if (BjontegaardDelta.TryBdRate(a, t, RdMetric.Psnr, out double bd))
            {
                perImage.Add(bd);
            }
        }

        return new RdComparison(
            anchor,
            test,
            OrNull(BjontegaardDelta.TryBdRate(anchorCurve, testCurve, RdMetric.Psnr, out double bdRate), bdRate),
            OrNull(BjontegaardDelta.TryBdPsnr(anchorCurve, testCurve, RdMetric.Psnr, out double bdPsnr), bdPsnr),
            OrNull(BjontegaardDelta.TryBdRate(anchorCurve, testCurve, RdMetric.MsSsimDb, out double bdMs), bdMs),
            perImage.Count > 0 ? perImage.Average() : null,
            perImage.Count);
    }

    private static RdSummary Summarise(string testCodec, int imageCount, RdComparison[] comparisons, RdImageResult[] results)
    {
        var byAnchor = comparisons.ToDictionary(c => c.Anchor, c => c.BdRate, StringComparer.Ordinal);
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var m in results.SelectMany(r => r.Measurements).Where(m => m.Codec == testCodec && m.Counts is not null))
        {
            foreach (var (key, value) in m.Counts!)
            {
                counts[key] = counts.GetValueOrDefault(key) + value;
            }
        }

        return new RdSummary(
            testCodec,
            imageCount,
            byAnchor.GetValueOrDefault("jpeg"),
            byAnchor.GetValueOrDefault("webp"),
            byAnchor)
        {
            BdRateVsNoAdapters = byAnchor.GetValueOrDefault(RdSummary.NoAdaptersAnchor),
            Counts = counts.Count > 0 ? counts : null,
        };
    }

    private static double? OrNull(bool ok, double value) => ok ? value : null;
}
