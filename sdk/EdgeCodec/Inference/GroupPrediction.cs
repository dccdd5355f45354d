namespace EdgeCodec.Inference;

/// <summary>What the context model of one group predicts for one tile.</summary>
/// <param name="Group">The group k.</param>
/// <param name="Mean">Predicted means, <c>GroupChannels × h × w</c>, fixed point with F fraction bits.</param>
/// <param name="Index">Gaussian scale level per latent, 0..ScaleLevels-1: the CDF table to code the symbol with.</param>
internal sealed record GroupPrediction(int Group, I32Tensor Mean, I32Tensor Index);
