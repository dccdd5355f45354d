"""Writes the measured section of the model card from the evaluation reports, so a release does not copy figures
by hand.

    python3 -m training.card --card models/edgecodec-hp.MODEL_CARD.md --pack models/edgecodec-hp-<hash>.ecpack \\
        --kodak docs/results/kodak-rd.json --validation docs/results/validation-rd.json

``export`` writes the card without it (the pack's embedded card cannot hold figures measured on the pack itself);
``scripts/release-pack.sh`` runs this after its evaluations. The section ``## Kodak (real bitstreams through the C#
SDK)`` is replaced if present, else appended, and everything before it is kept. A report's chart (the same name with
``.png``, as ``eval --plot`` or ``bd --plot`` writes it) is linked when it exists. Only measured figures go in: the RD
table, the BD-rates against JPEG and WebP (PSNR and MS-SSIM), the int8-vs-fp32 synthesis cost, the prefix layers, the
own validation split, the one-pass ladder and, once it has been run on the pack, the studio encoder's ladder
(``--studio``, ``--validation-studio``: the studio refinement takes ~2 h of both cores, so it runs after the release
and this is run again with its reports). How the packs compare over time is ``docs/benchmarks.md``'s job.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

HEADING = "## Kodak (real bitstreams through the C# SDK)"


def _curve(report: dict, codec: str) -> list[dict] | None:
    for curve in report.get("average_curves", []):
        if curve["codec"] == codec:
            return sorted(curve["points"], key=lambda p: p["quality"])
    return None


def _comparison(report: dict, anchor: str) -> dict | None:
    test = report["test_codec"]
    return next((c for c in report["comparisons"] if c["anchor"] == anchor and c["test"] == test), None)


def _pct(value: float, digits: int = 1) -> str:
    return f"{value:+.{digits}f} %".replace("-", "−")


def _db(value: float) -> str:
    return f"{value:+.2f} dB".replace("-", "−")


def _points(report: dict, codec: str) -> list[tuple[float, float]]:
    return [(p["bpp"], p["psnr"]) for p in _curve(report, codec) or []]


def _studio(name: str, report: dict, levels_top: float | None) -> str:
    """The sentence on the studio encoder's ladder (``eval --refined-latents --ladder``) on one image set: its BD-rates
    over the range each anchor shares with it, against the one-pass ladder (``edgecodec-fast``), and, with
    ``levels_top`` (where the one-pass quality levels stop, dB), over the range up to there, where issue #3's targets
    are read (``edgecodec bd REPORT --window LO,TOP`` gives the same figures)."""
    test = report["test_codec"]
    points = _points(report, test)
    if not points:
        raise ValueError(f"the studio report has no curve of its test codec {test!r}")
    shared = [f"**{_pct(c['bd_rate'])} vs {label}**" for label, c in
              (("JPEG", _comparison(report, "jpeg")), ("WebP", _comparison(report, "webp"))) if c and c["bd_rate"] is not None]
    fast = _comparison(report, "edgecodec-fast")
    text = (f"The studio encoder (per-image latent refinement before coding, `docs/refinement.md`: the same decoder and "
            f"bitstreams, a slower encoder) on {name}, {len(points)} settings of the quality ladder up to "
            f"{max(p for _, p in points):.1f} dB: " + ", ".join(shared) + " over the range each shares with it"
            + (f", {_pct(fast['bd_rate'])} against the one-pass ladder" if fast and fast["bd_rate"] is not None else ""))
    if levels_top is not None:
        from training.valbd import bd_rate
        windowed = []
        for label, codec in (("JPEG", "jpeg"), ("WebP", "webp")):
            anchor = _points(report, codec)
            lo = max(min(p for _, p in anchor), min(p for _, p in points)) if anchor else None
            if lo is not None and levels_top > lo:
                windowed.append(f"**{_pct(bd_rate(anchor, points, (lo, levels_top)))} vs {label}** over "
                                f"{lo:.2f}–{levels_top:.2f} dB")
        if windowed:
            text += "; up to where the one-pass levels stop: " + ", ".join(windowed)
    return text + "."


def section(kodak: dict, validation: dict | None, pack: str, ladder: dict | None = None,
            validation_ladder: dict | None = None, studio: dict | None = None,
            validation_studio: dict | None = None, curves: list[tuple[str, str]] | None = None) -> str:
    """The markdown of the measured section for ``pack`` (its file name) from the ``edgecodec eval`` reports: the
    levels on Kodak and the validation split, optionally the one-pass ladder and the studio encoder's ladder on each.
    ``curves``: (label, link) of the RD charts drawn from those reports, listed under the figures."""
    test = kodak["test_codec"]
    points = _curve(kodak, test)
    if not points:
        raise ValueError(f"the Kodak report has no curve of its test codec {test!r}")
    layers = sorted(int(c["codec"][len(test) + 1:-len("layers")]) for c in kodak["average_curves"]
                    if c["codec"].startswith(test + "-") and c["codec"].endswith("layers"))
    fp32 = _curve(kodak, f"{test}-onnx-fp32")
    head = ["quality", "bpp", "PSNR (dB)", "MS-SSIM"]
    if layers:
        head.append("PSNR, " + " / ".join(str(k) for k in layers) + " layers decoded")
    if fp32:
        head.append("PSNR, fp32 synthesis")
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for i, p in enumerate(points):
        cells = [str(p["quality"]), f"{p['bpp']:.3f}", f"{p['psnr']:.2f}", f"{p['ms_ssim']:.3f}"]
        if layers:
            cells.append(" / ".join(f"{_curve(kodak, f'{test}-{k}layers')[i]['psnr']:.2f}" for k in layers))
        if fp32:
            cells.append(f"{fp32[i]['psnr']:.2f}")
        rows.append("| " + " | ".join(cells) + " |")

    out = [HEADING, "",
           f"Measured after export with `scripts/release-pack.sh` (written by `python3 -m training.card`; not part of the "
           f"pack's embedded card). Pack `{pack}`, {kodak['summary']['image_count']} Kodak images, "
           f"{kodak['created_utc'][:10]}; bpp counts whole `.ecx` files; `cpu` backend (int8 synthesis, bit-exact with "
           "the integer reference)" + ("; fp32 = the same bitstreams decoded by `onnx-fp32`." if fp32 else "."), "",
           *rows, ""]
    facts = []
    jpeg, webp = _comparison(kodak, "jpeg"), _comparison(kodak, "webp")
    if jpeg:
        facts.append(f"BD-rate vs JPEG (libjpeg-turbo via SkiaSharp): **{_pct(jpeg['bd_rate'])}** (BD-PSNR "
                     f"{_db(jpeg['bd_psnr'])}; MS-SSIM: **{_pct(jpeg['bd_rate_ms_ssim'])}**).")
    if webp:
        facts.append(f"vs WebP: **{_pct(webp['bd_rate'])}** (MS-SSIM: {_pct(webp['bd_rate_ms_ssim'])}).")
    if fp32:
        facts.append(f"int8 synthesis vs fp32: **{_pct(_comparison(kodak, f'{test}-onnx-fp32')['bd_rate'], 2)}**.")
    int8_analysis = _curve(kodak, f"{test}-int8-analysis")
    if int8_analysis:
        from training.valbd import bd_rate
        cost = bd_rate([(q["bpp"], q["psnr"]) for q in points], [(q["bpp"], q["psnr"]) for q in int8_analysis])
        facts.append(f"The int8 analysis (`--analysis Int8`, the encoder's `onnx/analysis.qdq.onnx`) against the fp32 one: "
                     f"**{_pct(cost, 2)}** (`eval --compare-analysis`).")
    if layers:
        facts.append("All layers against the first " + " / ".join(str(k) for k in layers) + " (every prefix charged "
                     "the whole file's rate): " + " / ".join(
                         _pct(_comparison(kodak, f"{test}-{k}layers")["bd_rate"]) for k in layers) + ".")
    if validation:
        vj, vw = _comparison(validation, "jpeg"), _comparison(validation, "webp")
        if vj and vw:
            facts.append(f"Own validation split ({validation['summary']['image_count']} held-out photos): "
                         f"**{_pct(vj['bd_rate'])} vs JPEG**, {_pct(vw['bd_rate'], 2)} vs WebP.")
        for c in validation["comparisons"]:
            if c["test"] == validation["test_codec"] and c["anchor"].startswith(validation["test_codec"] + "-tile"):
                size = c["anchor"].rsplit("-tile", 1)[1]
                facts.append(f"There, the pack's own entropy tiles against {size}-px tiles (`--compare-tile-sizes "
                             f"{size}`): {_pct(c['bd_rate'])}.")
    for name, report in (("Kodak", ladder), ("the validation split", validation_ladder)):
        if not report:
            continue
        lj, lw = _comparison(report, "jpeg"), _comparison(report, "webp")
        levels = next((c for c in report["comparisons"] if c["test"] == report["test_codec"]
                       and c["anchor"] == report["test_codec"] + "-levels"), None)
        points = _curve(report, report["test_codec"])
        alone = _curve(report, report["test_codec"] + "-levels")
        reach = (f"; the ladder reaches {max(p['psnr'] for p in points):.1f} dB, the levels "
                 f"{max(p['psnr'] for p in alone):.1f} dB, and each BD-rate spans the PSNR range it shares with that "
                 "codec (`edgecodec bd REPORT --window` compares like with like)") if alone else ""
        facts.append(f"With the residual layer (`eval --ladder`: the pack's quality ladder, {len(points)} "
                     f"settings) on {name}: **{_pct(lj['bd_rate'])} vs JPEG**, **{_pct(lw['bd_rate'])} vs WebP**"
                     + (f", {_pct(levels['bd_rate'])} against the quality levels alone" if levels else "") + reach + ".")
    for name, report, one_pass in (("Kodak", studio, kodak), ("the validation split", validation_studio, validation)):
        if report:
            top = max((p for _, p in _points(one_pass, one_pass["test_codec"])), default=None) if one_pass else None
            facts.append(_studio(name, report, top))
    facts.append("Reference points (CompressAI, Kodak, BD-rate vs JPEG): factorized prior −45 %, scale hyperprior "
                 "−55 %. Earlier packs and the studio encoder: `docs/benchmarks.md`. This is a checkpoint of a training "
                 "run that continues.")
    if curves:
        facts.append("RD curves (against JPEG and WebP): " + ", ".join(f"[{label}]({link})" for label, link in curves) + ".")
    out.extend(f"- {fact}" for fact in facts)
    return "\n".join(out) + "\n"


def write(card: Path, text: str) -> None:
    """Replaces the measured section of ``card`` (from its heading to the end) with ``text``, or appends it."""
    body = card.read_text()
    at = body.find(HEADING)
    kept = (body[:at] if at >= 0 else body).rstrip("\n")
    card.write_text(kept + "\n\n" + text)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--card", type=Path, required=True, help="the model card written by export")
    ap.add_argument("--pack", type=Path, required=True, help="the pack the reports measured")
    ap.add_argument("--kodak", type=Path, required=True, help="edgecodec eval --json report on Kodak")
    ap.add_argument("--validation", type=Path, help="the same on the own validation split")
    ap.add_argument("--ladder", type=Path, help="edgecodec eval --ladder --json report on Kodak (the residual layer)")
    ap.add_argument("--validation-ladder", type=Path, help="the same on the own validation split")
    ap.add_argument("--studio", type=Path, help="edgecodec eval --refined-latents --ladder --json report on Kodak "
                    "(the studio encoder, docs/refinement.md; run after the release)")
    ap.add_argument("--validation-studio", type=Path, help="the same on the own validation split")
    args = ap.parse_args(argv)

    def load(path: Path | None) -> dict | None:
        return json.loads(path.read_text()) if path else None

    name = args.pack.stem.removeprefix("edgecodec-hp-")
    labels = (("kodak", "Kodak, levels"), ("validation", "validation, levels"), ("ladder", "Kodak, ladder"),
              ("validation_ladder", "validation, ladder"), ("studio", "Kodak, studio ladder"),
              ("validation_studio", "validation, studio ladder"))
    charts = [(label, Path(os.path.relpath(chart, args.card.resolve().parent)).as_posix()) for key, label in labels
              if (report := getattr(args, key)) and (chart := report.resolve().with_suffix(".png")).exists()]
    write(args.card, section(load(args.kodak), load(args.validation), name, load(args.ladder),
                             load(args.validation_ladder), load(args.studio), load(args.validation_studio), charts))
    print(f"wrote the measured section of {args.card}")


if __name__ == "__main__":
    main()
