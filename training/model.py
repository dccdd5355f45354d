"""EdgeCodec model: mean-scale hyperprior with channel-conditional groups and gain-vector variable rate.

Layout (all sizes for an H x W RGB image, H and W multiples of 64):
  g_a : RGB -> y  (M channels at 1/16)                       encoder only, fp32
  h_a : y'  -> z  (Z channels at 1/64)                       encoder only, fp32
  h_s : z_hat -> hyper features (HF channels at 1/16)         entropy-critical (integer engine)
  ctx_k : [hyper features, y_hat groups < k] -> (mean_k, scale index_k)   entropy-critical
  g_s : y_hat -> RGB  (conv3x3 + depth-to-space + ReLU only)  synthesis, int8 on every backend

Variable rate: quality level q has a gain vector gain[q] (M) and inverse gain igain[q]:
  y' = y * gain[q] is quantised and coded; g_s sees y_hat' * igain[q].

Scales are predicted directly as an index into a fixed log-spaced table of SCALE_LEVELS
entries (rounded with a straight-through estimator during training), so the integer engine
only has to reproduce an integer, never a float scale.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

SCALE_LEVELS = 64
MEAN_FRACTION_BITS = 4  # the integer engine's means and dequantised latents are fixed point with 1/16 steps
SCALE_MIN = 0.11
SCALE_MAX = 256.0
LIKELIHOOD_BOUND = 1e-9
CONTEXT_HIDDEN = 96  # hidden channels of a context model (the groups of the first four; a grown group may have fewer)

# MSE lambdas (x 255^2 on [0,1] images) of the quality levels. Until step 44,268 they were CompressAI's levels 1..6
# (LEGACY_LAMBDAS); this model spent 0.23 bpp at the lowest of them on Kodak, where JPEG and the cameras' low-bandwidth
# links need less, so the levels were spread to 1/4 of the old lowest lambda, log-spaced, keeping the highest
# (docs/training.md, "Quality levels"). Checkpoints record their lambdas; older ones are re-levelled on load.
LEGACY_LAMBDAS = (0.0018, 0.0035, 0.0067, 0.0130, 0.0250, 0.0483)
DEFAULT_LAMBDAS = (0.00045, 0.00115, 0.00293, 0.00748, 0.0191, 0.0483)


def scale_table() -> torch.Tensor:
    return torch.exp(torch.linspace(math.log(SCALE_MIN), math.log(SCALE_MAX), SCALE_LEVELS))


def ste_round(x: torch.Tensor) -> torch.Tensor:
    return x + (torch.round(x) - x).detach()


class GDN(nn.Module):
    """Generalised divisive normalisation (Balle et al. 2016), encoder side only."""

    bf16 = False  # set by Analysis.use_bf16

    def __init__(self, channels: int):
        super().__init__()
        self.beta = nn.Parameter(torch.ones(channels))
        self.gamma = nn.Parameter(0.1 * torch.eye(channels).view(channels, channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        beta = F.softplus(self.beta) + 1e-6
        gamma = torch.abs(self.gamma)
        return x * torch.rsqrt(bf16_conv(self, x * x, gamma, beta))


def bf16_active(module: nn.Module) -> bool:
    """Whether ``module`` computes in bfloat16 now: its ``bf16`` is set, it trains and autograd records. Evaluation,
    calibration and export always run fp32."""
    return module.bf16 and module.training and torch.is_grad_enabled()


def bf16_conv(module: nn.Module, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, **kw) -> torch.Tensor:
    """``F.conv2d``, with its multiplies in bfloat16 (fp32 in and out) while ``bf16_active(module)``: a training step's
    speed-up for the encoder (``Analysis.use_bf16``)."""
    if not bf16_active(module):
        return F.conv2d(x, weight, bias, **kw)
    b = None if bias is None else bias.bfloat16()
    return F.conv2d(x.bfloat16(), weight.bfloat16(), b, **kw).float()


class Conv2d(nn.Conv2d):
    """``nn.Conv2d`` (same parameters and state-dict keys) that can train in bfloat16 (``bf16_conv``)."""

    bf16 = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return bf16_conv(self, x, self.weight, self.bias, stride=self.stride, padding=self.padding)


def conv(cin: int, cout: int, k: int = 3, stride: int = 1) -> nn.Conv2d:
    return Conv2d(cin, cout, k, stride=stride, padding=k // 2)


class Up(nn.Module):
    """conv3x3 to 4*cout channels then depth-to-space x2: the int8-friendly upsampler."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = conv(cin, cout * 4, 3)
        self.shuffle = nn.PixelShuffle(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shuffle(self.conv(x))


class ResidualBlock(nn.Module):
    """x + conv3x3(LeakyReLU(conv3x3(x))) with the second conv zero-initialised: added to a trained model, the block
    is the identity until training moves it (function-preserving growth)."""

    def __init__(self, ch: int, hidden: int | None = None):
        super().__init__()
        self.conv1 = conv(ch, hidden or ch, 3)
        self.conv2 = conv(hidden or ch, ch, 3)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.leaky_relu(self.conv1(x), 0.01))


# State-dict prefixes of the layers added by growth: g_a's residual blocks at training step 37,183, g_s's residual
# conv at step 49,060, g_a's residual block on the latent at step 52,565. A checkpoint from before a growth lacks its
# layers and loads with them at their (identity) initialisation.
GROWN_KEYS = ("g_a.res4.", "g_a.res8.", "g_s.res4.", "g_a.res16.")
# State-dict prefixes of layers that were grown and removed again: checkpoints that have them still load, without them.
# g_a's bottleneck block at 1/2 resolution (grown at step 60,000, removed at 64,150: +20.7 kMAC/pixel of encoder for no
# measurable gain; docs/training.md, "Encoder growth at half resolution").
REMOVED_KEYS = ("g_a.res2.",)
# The layers of the latest growth: train --grown-lr applies to them (none since g_a.res2 was removed; the earlier grown
# layers are trained by now).
NEWEST_GROWTH: tuple[str, ...] = ()


class Analysis(nn.Module):
    """g_a: four 5x5 stride-2 convs with GDN, plus residual blocks at 1/4, 1/8 and 1/16 resolution. Encoder only,
    so its size costs nothing at decode time. Children "0".."6" keep the keys of the original nn.Sequential encoder."""

    def __init__(self, m: int, n: int):
        super().__init__()
        layers = (conv(3, n, 5, 2), GDN(n), conv(n, n, 5, 2), GDN(n), conv(n, n, 5, 2), GDN(n), conv(n, m, 5, 2))
        for i, layer in enumerate(layers):
            self.add_module(str(i), layer)
        self.res4 = ResidualBlock(n)
        self.res8 = ResidualBlock(n)
        # Added at step 52,565 (docs/training.md, "Encoder growth on the latent"): a residual block on y itself.
        self.res16 = ResidualBlock(m)

    def use_bf16(self, on: bool) -> None:
        """Train the layers above the latent's resolution with bfloat16 multiplies (``bf16_conv``) on channels-last
        activations (oneDNN's fastest layout for them): a faster training step on a CPU with AVX512-BF16
        (docs/training.md, "A bfloat16 encoder"). The last conv and ``res16``, which write y itself, stay fp32
        (bfloat16 keeps 8 bits of mantissa, and y at the top level reaches ~80 quantisation steps)."""
        for name, module in self.named_modules():
            if isinstance(module, (Conv2d, GDN)):
                module.bf16 = on and not name.startswith(("6", "res16"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        layer = self._modules
        fast = bf16_active(layer["0"])
        if fast:
            x = x.contiguous(memory_format=torch.channels_last)
        x = layer["1"](layer["0"](x))
        x = self.res4(layer["3"](layer["2"](x)))
        x = self.res8(layer["5"](layer["4"](x)))
        y = self.res16(layer["6"](x))
        return y.contiguous() if fast else y


@dataclass(frozen=True)
class SynthStep:
    """One step of g_s. Every consumer of g_s walks its plan (``Synthesis.plan``: the float forward, QAT's fake quant,
    the export's calibration trace, integer graphs and ONNX graphs, the adapters' FiLM), so the layer order is written
    once per variant.

    A conv step runs the layer at ``conv`` (a path in ``Synthesis``) on its one input, then depth-to-space by ``d2s``;
    an add step sums its two inputs. ``relu`` clips at zero. In the integer engine a ReLU output is u8 with zero point
    0, a conv output without ReLU (other than the last, ``rgb``) is a signed activation: u8 with zero point 128.
    """

    out: str
    inputs: tuple[str, ...]
    conv: str | None = None
    d2s: int = 1
    relu: bool = True

    @property
    def signed(self) -> bool:
        return self.conv is not None and not self.relu and self.out != SYNTH_OUTPUT


SYNTH_INPUT, SYNTH_OUTPUT = "y", "rgb"
_UPPER = (
    SynthStep("a4", ("a3",), "up2.conv", d2s=2),      # 1/8 -> 1/4
    SynthStep("r4", ("a4",), "res4", relu=False),     # 1/4, signed residual (g_s growth, step 49,060)
    SynthStep("a4r", ("a4", "r4")),                   # ReLU(a4 + r4)
    SynthStep("a5", ("a4r",), "up3.conv", d2s=2),     # 1/4 -> 1/2
    SynthStep("rgb", ("a5",), "up4.conv", d2s=2, relu=False),  # 1/2 -> 1/1
)
# g_s's layer order, by variant. Both run the same convs on the same weights; they differ in the 1/8 residual.
SYNTH_PLANS = {
    # a1 + ReLU(mid(a1)): the branch can only add, and most of its units die (docs/training.md, "Dormant units").
    "relu-mid": (
        SynthStep("a1", ("y",), "up1.conv", d2s=2),   # 1/16 -> 1/8
        SynthStep("a2", ("a1",), "mid"),              # 1/8
        SynthStep("a3", ("a2", "a1"), relu=False),    # residual sum of two ReLU outputs (non-negative already)
    ) + _UPPER,
    # ReLU(a1 + mid(a1)): a signed residual, like res4 (session 15).
    "signed-mid": (
        SynthStep("a1", ("y",), "up1.conv", d2s=2),   # 1/16 -> 1/8
        SynthStep("a2", ("a1",), "mid", relu=False),  # 1/8, signed
        SynthStep("a3", ("a1", "a2")),                # ReLU(a1 + a2)
    ) + _UPPER,
}
# What each variant computes at 1/8 resolution (the model card says it).
SYNTH_RESIDUALS = {"relu-mid": "a1 + ReLU(mid(a1))", "signed-mid": "ReLU(a1 + mid(a1))"}
# The variant of a checkpoint that does not name one (every checkpoint before session 15), and of a new model.
LEGACY_SYNTHESIS, DEFAULT_SYNTHESIS = "relu-mid", "signed-mid"


def synth_activations(plan: tuple[SynthStep, ...]) -> tuple[str, ...]:
    """The activations the integer graphs store as bytes, in plan order (everything but the RGB output)."""
    return tuple(s.out for s in plan if s.out != SYNTH_OUTPUT)


def synth_signed(plan: tuple[SynthStep, ...]) -> frozenset[str]:
    """The activations stored as signed bytes (u8 with zero point 128)."""
    return frozenset(s.out for s in plan if s.signed)


class Synthesis(nn.Module):
    """g_s: only conv3x3, ReLU, residual adds and depth-to-space, so every backend runs it in int8 (SYNTH_PLANS)."""

    def __init__(self, m: int, n1: int = 96, n2: int = 64, n3: int = 48, variant: str = DEFAULT_SYNTHESIS):
        super().__init__()
        self.variant = variant
        self.up1 = Up(m, n1)        # 1/16 -> 1/8
        self.mid = conv(n1, n1, 3)  # 1/8
        self.up2 = Up(n1, n2)       # 1/8 -> 1/4
        # Added at step 49,060 (docs/training.md, "Synthesis growth"): zero-initialised, so ReLU(a4 + res4(a4)) = a4
        # (a4 is a ReLU output) and the grown model starts as exactly the function it was grown from.
        self.res4 = conv(n2, n2, 3)
        nn.init.zeros_(self.res4.weight)
        nn.init.zeros_(self.res4.bias)
        self.up3 = Up(n2, n3)       # 1/4 -> 1/2
        self.up4 = Up(n3, 3)        # 1/2 -> 1/1
        # Set by training.qat.enable: a callable (g_s, y) -> x_hat that simulates the integer engine.
        self.fake_quant = None

    @property
    def variant(self) -> str:
        """The layer order (a key of SYNTH_PLANS). It is not in the state dict: checkpoints record it beside the
        weights, and loading one sets it."""
        return self._variant

    @variant.setter
    def variant(self, value: str) -> None:
        if value not in SYNTH_PLANS:
            raise ValueError(f"unknown synthesis variant {value!r} (known: {', '.join(SYNTH_PLANS)})")
        self._variant = value

    @property
    def plan(self) -> tuple[SynthStep, ...]:
        return SYNTH_PLANS[self._variant]

    def walk(self, y: torch.Tensor, conv_fn=None, act_fn=None) -> dict[str, torch.Tensor]:
        """Runs the plan and returns every activation by name (``y`` and ``rgb`` included).

        ``conv_fn(step, layer, x)`` replaces ``layer(x)`` (FiLM, fake-quant weights); ``act_fn(step, v)`` sees each
        activation after its ReLU and returns what later steps use (fake-quant rounding)."""
        t = {SYNTH_INPUT: y}
        for s in self.plan:
            if s.conv is not None:
                layer = self.get_submodule(s.conv)
                x = t[s.inputs[0]]
                v = conv_fn(s, layer, x) if conv_fn is not None else layer(x)
                if s.d2s > 1:
                    v = F.pixel_shuffle(v, s.d2s)
            else:
                v = t[s.inputs[0]] + t[s.inputs[1]]
            if s.relu:
                v = F.relu(v)
            t[s.out] = act_fn(s, v) if act_fn is not None else v
        return t

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        if self.fake_quant is not None:
            return self.fake_quant(self, y)
        return self.walk(y)[SYNTH_OUTPUT]


class EntropyBottleneck(nn.Module):
    """Non-parametric factorised density for z (Balle et al. 2018, appendix 6.1)."""

    def __init__(self, channels: int, filters=(3, 3, 3), init_scale: float = 10.0):
        super().__init__()
        self.channels = channels
        dims = (1,) + tuple(filters) + (1,)
        scale = init_scale ** (1 / (len(filters) + 1))
        self.matrices = nn.ParameterList()
        self.biases = nn.ParameterList()
        self.factors = nn.ParameterList()
        for i in range(len(filters) + 1):
            init = math.log(math.expm1(1 / scale / dims[i + 1]))
            self.matrices.append(nn.Parameter(torch.full((channels, dims[i + 1], dims[i]), init)))
            self.biases.append(nn.Parameter(torch.rand(channels, dims[i + 1], 1) - 0.5))
            if i < len(filters):
                self.factors.append(nn.Parameter(torch.zeros(channels, dims[i + 1], 1)))

    def logits_cdf(self, x: torch.Tensor) -> torch.Tensor:
        # x: (C, 1, N)
        for i in range(len(self.matrices)):
            x = torch.matmul(F.softplus(self.matrices[i]), x) + self.biases[i]
            if i < len(self.factors):
                x = x + torch.tanh(self.factors[i]) * torch.tanh(x)
        return x

    def likelihood(self, z: torch.Tensor) -> torch.Tensor:
        c = z.shape[1]
        v = z.transpose(0, 1).reshape(c, 1, -1)
        lower = self.logits_cdf(v - 0.5)
        upper = self.logits_cdf(v + 0.5)
        sign = -torch.sign(lower + upper).detach()
        lik = torch.abs(torch.sigmoid(sign * upper) - torch.sigmoid(sign * lower))
        lik = lik.reshape(c, z.shape[0], *z.shape[2:]).transpose(0, 1)
        return torch.clamp(lik, min=LIKELIHOOD_BOUND)

    @torch.no_grad()
    def pmf_table(self, lo: int, hi: int) -> torch.Tensor:
        """Probability of every integer in [lo, hi] per channel: (C, hi-lo+1)."""
        v = torch.arange(lo, hi + 1, dtype=torch.float32).view(1, 1, -1).repeat(self.channels, 1, 1)
        lower = self.logits_cdf(v - 0.5)
        upper = self.logits_cdf(v + 0.5)
        sign = -torch.sign(lower + upper)
        return torch.abs(torch.sigmoid(sign * upper) - torch.sigmoid(sign * lower)).squeeze(1)


def gaussian_likelihood(values: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    """P(round(v) = values) for centred Gaussian residuals; values already mean-removed."""
    half = 0.5
    v = torch.abs(values)
    upper = 0.5 * torch.erfc(-(half - v) / (scales * math.sqrt(2)))
    lower = 0.5 * torch.erfc(-(-half - v) / (scales * math.sqrt(2)))
    return torch.clamp(upper - lower, min=LIKELIHOOD_BOUND)


class ContextModel(nn.Module):
    """Predicts (mean, scale index) of channel group k from hyper features and groups < k."""

    def __init__(self, hyper_ch: int, prev_ch: int, group_ch: int, hidden: int = 96):
        super().__init__()
        self.inp = nn.Conv2d(hyper_ch + prev_ch, hidden, 1)
        self.mid = conv(hidden, hidden, 3)
        self.out = nn.Conv2d(hidden, 2 * group_ch, 1)
        self.group_ch = group_ch
        with torch.no_grad():
            self.out.bias[group_ch:].fill_(SCALE_LEVELS / 2)

    def forward(self, feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.head(self.inp(feats))

    def head(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mean, scale-index logit) from the first layer's pre-activation ``h`` (lets a probe add to it)."""
        x = F.relu(h)
        x = F.relu(self.mid(x)) + x
        out = self.out(x)
        return out[:, : self.group_ch], out[:, self.group_ch:]


class EdgeCodecModel(nn.Module):
    def __init__(self, m: int = 128, z: int = 64, n_enc: int = 96, hyper_ch: int = 128,
                 groups: int = 4, lambdas=DEFAULT_LAMBDAS, context_hidden: tuple[int, ...] | None = None):
        super().__init__()
        assert m % groups == 0
        self.m, self.zc, self.groups, self.group_ch = m, z, groups, m // groups
        self.context_hidden = tuple(context_hidden or (CONTEXT_HIDDEN,) * groups)
        assert len(self.context_hidden) == groups
        # Per-group weights of the rate term (None: all 1). train --grow-latent ramps a new group's weight from 0 so the
        # synthesis learns to use its channels before their bits are charged (docs/training.md, "The latent width").
        self.group_rate_weight: list[float] | None = None
        self.lambdas = tuple(lambdas)
        q = len(self.lambdas)
        self.g_a = Analysis(m, n_enc)
        self.h_a = nn.Sequential(
            conv(m, 128, 3), nn.LeakyReLU(inplace=True),
            conv(128, 128, 5, 2), nn.LeakyReLU(inplace=True),
            conv(128, z, 5, 2),
        )
        # h_s: integer-engine friendly (conv3x3, ReLU, depth-to-space).
        self.h_s = nn.Sequential(
            Up(z, 96), nn.ReLU(inplace=True),
            Up(96, 96), nn.ReLU(inplace=True),
            conv(96, hyper_ch, 3), nn.ReLU(inplace=True),
        )
        self.context = nn.ModuleList(
            ContextModel(hyper_ch, k * self.group_ch, self.group_ch, self.context_hidden[k]) for k in range(groups)
        )
        self.g_s = Synthesis(m)
        self.entropy_bottleneck = EntropyBottleneck(z)
        # Gains in log domain; level 0 is the lowest rate.
        init = torch.linspace(math.log(0.5), math.log(2.0), q).view(q, 1).repeat(1, m)
        self.log_gain = nn.Parameter(init.clone())
        self.log_igain = nn.Parameter(-init.clone())
        self.register_buffer("scales", scale_table(), persistent=False)
        # Set by training.qat.enable(entropy=True): runs h_s and the context models as the integer engine does.
        self.entropy_fake_quant = None

    # --- helpers -------------------------------------------------------------------------
    def scale_from_index(self, t: torch.Tensor) -> torch.Tensor:
        t = torch.clamp(ste_round(t), 0, SCALE_LEVELS - 1)
        step = (math.log(SCALE_MAX) - math.log(SCALE_MIN)) / (SCALE_LEVELS - 1)
        return torch.exp(math.log(SCALE_MIN) + t * step)

    def hyper(self, z_hat: torch.Tensor) -> torch.Tensor:
        """h_s(z_hat), as the integer engine computes it when the entropy path's fake quant is on."""
        if self.entropy_fake_quant is not None:
            return self.entropy_fake_quant.hyper(self.h_s, z_hat)
        return self.h_s(z_hat)

    def code_groups(self, hyper: torch.Tensor, y: torch.Tensor, quantize) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The channel-conditional groups in order: (bits of y, y_hat per group). ``quantize(r)`` maps a group's
        residual ``y - mean`` to (what the rate is measured on, what the decoder and later groups see)."""
        bits = y.new_zeros(())
        prev: list[torch.Tensor] = []
        gc = self.group_ch
        for k in range(self.groups):
            mu, t = self.group_params(hyper, prev, k)
            r_rate, r_hat = quantize(y[:, k * gc:(k + 1) * gc] - mu)
            group_bits = (-torch.log2(gaussian_likelihood(r_rate, self.scale_from_index(t)))).sum()
            bits = bits + (group_bits if self.group_rate_weight is None else self.group_rate_weight[k] * group_bits)
            prev.append(r_hat + mu)
        return bits, prev

    def group_params(self, hyper: torch.Tensor, prev: list[torch.Tensor], k: int):
        if self.entropy_fake_quant is not None:
            return self.entropy_fake_quant.context(self.context[k], hyper, prev, k)
        feats = torch.cat([hyper] + prev, dim=1) if prev else hyper
        return self.context[k](feats)

    # --- training forward ----------------------------------------------------------------
    @staticmethod
    def _perturb(v: torch.Tensor, hard: bool | str) -> torch.Tensor:
        # Training: additive uniform noise as a proxy for rounding; evaluation: real rounding; "ste": real rounding
        # with a straight-through gradient (training against the rate a bitstream really costs).
        if hard == "ste":
            return ste_round(v)
        if hard:
            return torch.round(v)
        return v + torch.empty_like(v).uniform_(-0.5, 0.5)

    def forward(self, x: torch.Tensor, q: torch.Tensor, drop_groups: int | None = None, hard: bool | str = False,
                tile: int | None = None):
        """x in [0,1], q: (B,) long quality levels. Returns dict with x_hat, bits, etc. The rate is measured on noisy
        latents (``hard`` False, training), on rounded ones (True, evaluation) or on rounded ones with a
        straight-through gradient (``"ste"``: ``training.fit_encoder``). With ``tile`` (in latents, dividing
        the latent's height and width) the entropy model codes each tile x tile block of y alone, as the SDK codes an
        entropy tile: ``g_a`` and ``g_s`` see the whole picture, ``h_a``, ``h_s`` and the context models one tile, with
        zero padding at its border."""
        gain = torch.exp(self.log_gain[q]).unsqueeze(-1).unsqueeze(-1)
        igain = torch.exp(self.log_igain[q]).unsqueeze(-1).unsqueeze(-1)
        y = self.g_a(x) * gain
        shape = y.shape
        if tile is not None:
            if tile % 4:
                raise ValueError(f"an entropy tile of {tile} latents does not hold whole hyper-latents (stride 4)")
            y = to_tiles(y, tile)
        z = self.h_a(y)
        z_noisy = self._perturb(z, hard)
        z_lik = self.entropy_bottleneck.likelihood(z_noisy)
        hyper = self.hyper(ste_round(z))
        # The rate sees noise (training) or rounding; the decoder side always sees straight-through rounding.
        y_bits, prev_hat = self.code_groups(hyper, y, lambda r: (self._perturb(r, hard), ste_round(r)))
        y_hat = torch.cat(prev_hat, dim=1)
        untile = (lambda t: t) if tile is None else (lambda t: from_tiles(t, shape))
        x_hat = self.g_s(untile(y_hat) * igain)
        out = {
            "x_hat": x_hat,
            "y_bits": y_bits,
            "z_bits": (-torch.log2(z_lik)).sum(),
        }
        if drop_groups is not None and 0 < drop_groups < self.groups:
            # Tail-drop: groups >= drop_groups are replaced by their predicted means, each predicted
            # from the groups before it (exactly what the decoder does with a truncated stream).
            dropped = prev_hat[:drop_groups]
            for k in range(drop_groups, self.groups):
                mu, _ = self.group_params(hyper, dropped, k)
                dropped = dropped + [mu]
            out["x_hat_drop"] = self.g_s(untile(torch.cat(dropped, dim=1)) * igain)
        return out


def to_tiles(y: torch.Tensor, tile: int) -> torch.Tensor:
    """(B, C, H, W) -> (B * H/tile * W/tile, C, tile, tile), tiles in row-major order per picture."""
    b, c, h, w = y.shape
    if h % tile or w % tile:
        raise ValueError(f"a {h}x{w} latent does not split into {tile}x{tile} tiles")
    return y.view(b, c, h // tile, tile, w // tile, tile).permute(0, 2, 4, 1, 3, 5).reshape(-1, c, tile, tile)


def from_tiles(tiles: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """The inverse of ``to_tiles`` for a latent of ``shape``."""
    b, c, h, w = shape
    t = tiles.shape[-1]
    return tiles.view(b, h // t, w // t, c, t, t).permute(0, 3, 1, 4, 2, 5).reshape(b, c, h, w)


def checkpoint_synthesis(ck: dict) -> str:
    """The synthesis variant a checkpoint (compact or a run's) was trained with: the record names it, or it predates
    the variants (LEGACY_SYNTHESIS)."""
    return ck.get("synthesis", LEGACY_SYNTHESIS)


def latent_layout(model: EdgeCodecModel) -> dict:
    """The latent's shape as checkpoints record it (``"latent"``): channels, groups, each context model's width."""
    return {"channels": model.m, "groups": model.groups, "context_hidden": list(model.context_hidden)}


def checkpoint_layout(ck: dict) -> dict:
    """The latent layout a checkpoint (compact or a run's) was trained with; older ones predate the record and have
    the original 128 channels in 4 groups."""
    return ck.get("latent", {"channels": 128, "groups": 4, "context_hidden": [CONTEXT_HIDDEN] * 4})


def model_for(ck: dict, **kwargs) -> EdgeCodecModel:
    """An untrained model of the layout that ``ck`` records (its weights are not loaded), with the checkpoint's own
    quality levels unless ``lambdas`` is given (a checkpoint from before levels were recorded gets DEFAULT_LAMBDAS, to
    which its legacy levels are re-levelled on load)."""
    layout = checkpoint_layout(ck)
    kwargs.setdefault("lambdas", tuple(ck.get("lambdas") or DEFAULT_LAMBDAS))
    return EdgeCodecModel(m=layout["channels"], groups=layout["groups"],
                          context_hidden=tuple(layout["context_hidden"]), **kwargs)


def _relayout(model: EdgeCodecModel, m: int, groups: int, context_hidden: tuple[int, ...]) -> EdgeCodecModel:
    """An untrained model like ``model`` (encoder width, hyper channels, levels) with another latent layout."""
    return EdgeCodecModel(m=m, z=model.zc, n_enc=model.g_a.res4.conv1.in_channels,
                          hyper_ch=model.context[0].inp.in_channels, groups=groups, lambdas=model.lambdas,
                          context_hidden=context_hidden)


@torch.no_grad()
def grow_latent(model: EdgeCodecModel, hidden: int, seed: int = 0) -> EdgeCodecModel:
    """A copy of ``model`` with one more channel group (``group_ch`` new latent channels at 1/16, coded after the
    others, predicted by a new context model of ``hidden`` channels from the hyper features and all earlier groups).

    Function-preserving for the picture: the synthesis, ``h_a`` and ``res16`` read the new channels through
    zero-initialised weights, so every old output is unchanged; only the new channels' bits are added (the encoder's
    last conv writes them from random weights, scaled to the old channels' spread, so the synthesis gets a gradient
    from the first step). The gains of the new channels start at each level's median gain."""
    gc = model.group_ch
    grown = _relayout(model, model.m + gc, model.groups + 1, model.context_hidden + (hidden,))
    grown.g_s.variant = model.g_s.variant
    old = model.state_dict()
    new = grown.state_dict()
    gen = torch.Generator().manual_seed(seed)
    m = model.m
    for key, value in new.items():
        if key not in old:
            continue  # the new context model keeps its initialisation
        src = old[key]
        if src.shape == value.shape:
            value.copy_(src)
            continue
        value.zero_()
        index = tuple(slice(0, n) for n in src.shape)
        value[index] = src
        if key == "g_a.6.weight":
            spread = src.std(dim=(1, 2, 3)).median()
            value[m:] = torch.randn(value[m:].shape, generator=gen) * spread
        elif key == "g_a.res16.conv1.weight":
            spread = src.std(dim=(1, 2, 3)).median()
            value[m:, :] = torch.randn(value[m:, :].shape, generator=gen) * spread
        elif key in ("log_gain", "log_igain"):
            value[:, m:] = src.median(dim=1, keepdim=True).values
    grown.load_state_dict(new)
    return grown


@torch.no_grad()
def newest_group_slices(model: EdgeCodecModel) -> dict[str, torch.Tensor]:
    """Masks (True = the part ``grow_latent`` added) of the parameters that the newest channel group widened: the
    synthesis' first conv's input columns, the encoder's last conv's output rows, ``res16``'s and ``h_a``'s new rows
    and columns, the new gains. Empty for a model of four groups. The new context model is not included: it is a whole
    new module (train.parameter_groups gives whole modules their own rate)."""
    if model.groups <= 4:
        return {}
    with torch.random.fork_rng(devices=[]):  # only the shapes are wanted: leave the training's random draws alone
        old = _relayout(model, model.m - model.group_ch, model.groups - 1, model.context_hidden[:-1])
    shapes = {k: v.shape for k, v in old.state_dict().items()}
    masks = {}
    for name, param in model.named_parameters():
        shape = shapes.get(name)
        if shape is None or shape == param.shape:
            continue
        mask = torch.ones(param.shape, dtype=torch.bool)
        mask[tuple(slice(0, n) for n in shape)] = False
        masks[name] = mask
    return masks


def load_state(model: nn.Module, state: dict) -> list[str]:
    """Loads a state dict that may predate a growth (GROWN_KEYS) or hold removed layers (REMOVED_KEYS, dropped); returns
    the grown keys it lacked (left at their identity initialisation). Any other missing or unexpected key is an error."""
    state = {k: v for k, v in state.items() if not k.startswith(REMOVED_KEYS)}
    result = model.load_state_dict(state, strict=False)
    bad = [k for k in result.missing_keys if not k.startswith(GROWN_KEYS)]
    if bad or result.unexpected_keys:
        raise ValueError(f"checkpoint does not fit the model: missing {bad}, unexpected {result.unexpected_keys}")
    return list(result.missing_keys)


def relevel_rows(rows: torch.Tensor, from_lambdas, to_lambdas) -> torch.Tensor:
    """Per-level vectors (one row per level of ``from_lambdas``: log gains or log inverse gains) moved to the levels of
    ``to_lambdas``, which may be more or fewer: per channel, piecewise-linear in log lambda, extrapolated with the end
    segments' slopes. A level whose lambda was trained keeps its row exactly."""
    src = torch.tensor([math.log(v) for v in from_lambdas], dtype=torch.float64)
    if len(src) != rows.shape[0] or len(src) < 2 or not bool((src[1:] > src[:-1]).all()):
        raise ValueError(f"cannot re-level from lambdas {tuple(from_lambdas)}")
    old = rows.detach().double()
    out = torch.empty((len(to_lambdas),) + tuple(rows.shape[1:]), dtype=torch.float64)
    for i, lam in enumerate(to_lambdas):
        x = math.log(lam)
        k = int(torch.searchsorted(src, torch.tensor(x, dtype=torch.float64)).clamp(1, len(src) - 1))
        t = (x - src[k - 1]) / (src[k] - src[k - 1])
        out[i] = (1 - t) * old[k - 1] + t * old[k]
    return out.to(rows.dtype)


@torch.no_grad()
def counted_conv_macs(nets: tuple[nn.Module, ...], run) -> int:
    """Multiply-accumulates of every convolution inside ``nets`` while ``run()`` executes on a batch of one, counted
    from each convolution's output size."""
    macs = []

    def hook(mod: nn.Conv2d, _inp, out):
        k = mod.in_channels // mod.groups * mod.kernel_size[0] * mod.kernel_size[1]
        macs.append(k * out[0].numel())

    handles = [c.register_forward_hook(hook) for net in nets for c in net.modules() if isinstance(c, nn.Conv2d)]
    try:
        run()
    finally:
        for h in handles:
            h.remove()
    return sum(macs)


def encoder_kmac_per_pixel(model: EdgeCodecModel) -> float:
    """Multiply-accumulates per input pixel of g_a and h_a, in thousands (they run on the sending device), counted
    from the output size of every convolution on a 256x256 input."""
    macs = counted_conv_macs((model.g_a, model.h_a), lambda: model.h_a(model.g_a(torch.zeros(1, 3, 256, 256))))
    return macs / (256 * 256) / 1000


def decoder_kmac_per_pixel(model: EdgeCodecModel) -> dict:
    """Multiply-accumulates per output pixel of the decoder parts, in thousands."""
    def conv_macs(c: nn.Conv2d, area: float) -> float:
        k = c.kernel_size[0] * c.kernel_size[1]
        return c.in_channels * c.out_channels * k * area

    g, area = 0.0, 1 / 256  # g_s starts at 1/16 resolution
    for st in model.g_s.plan:
        if st.conv is not None:
            g += conv_macs(model.g_s.get_submodule(st.conv), area)
            area *= st.d2s * st.d2s
    hs = model.h_s
    h = conv_macs(hs[0].conv, 1 / 4096) + conv_macs(hs[2].conv, 1 / 1024) + conv_macs(hs[4], 1 / 256)
    c = sum(conv_macs(cm.inp, 1 / 256) + conv_macs(cm.mid, 1 / 256) + conv_macs(cm.out, 1 / 256)
            for cm in model.context)
    return {"g_s": g / 1000, "h_s": h / 1000, "context": c / 1000, "total": (g + h + c) / 1000}
