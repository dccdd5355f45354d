#!/usr/bin/env bash
# Ship a new model pack from a training checkpoint and rebuild everything tied to it:
#   1. export the pack (models/edgecodec-hp-<hash>.ecpack + model card), replacing the previous pack and its weights
#   2. regenerate the test vectors (scripts/regenerate-vectors.sh) and check them against the pack and its decoder-only
#      copy (edgecodec model strip; WORKDIR keeps the copy)
#   3. keep the exact source weights as models/checkpoints/edgecodec-hp-<hash>.pt (studio encoder, adapter training)
#   4. measure it: Kodak and the validation photos with real bitstreams (docs/results/{kodak,validation}-rd.json; with
#      a residual layer also the quality ladder: docs/results/{kodak,validation}-ladder-rd.json), and write those
#      figures into the model card's measured section (training/card.py)
#   5. retrain, package and sign the shipped domain adapters for it, with a fresh development key, and measure them
#   6. rerun the AdapterDeploy sample
# Usage: [EXPORTED=DIR] scripts/release-pack.sh CHECKPOINT [WORKDIR]
# EXPORTED: a folder where `training.export --checkpoint CHECKPOINT --out DIR --vectors DIR/v` already ran (skips it).
# CHECKPOINT is a compact training checkpoint: the run's weight average (training/runs/main/ema.pt, copied first if
# training is still writing it; on a machine without the run folder, `python3 -m training.average
# models/checkpoints/edgecodec-train.pt /tmp/ck.pt` writes the average the committed checkpoint carries). WORKDIR (default: a temporary folder) receives the development signing key
# and the adapters' parts; the private key is never committed. ~30 minutes on 2 idle cores.
# Afterwards: update the figures in README.md, docs/benchmarks.md, docs/training.md and docs/adapters.md from the
# reports (edgecodec bd REPORT --window LO,HI compares like for like with the previous pack).
set -euo pipefail
cd "$(dirname "$0")/.."
CHECKPOINT=$(realpath "$1")
WORK=${2:-$(mktemp -d)}
mkdir -p "$WORK"
PY=/usr/bin/python3
CLI="dotnet sdk/EdgeCodec.Cli/bin/Release/net10.0/EdgeCodec.Cli.dll"

dotnet build EdgeCodec.sln -c Release -nologo -clp:ErrorsOnly
for old in models/edgecodec-hp-*.ecpack; do
  git rm -q --ignore-unmatch "$old" "models/checkpoints/$(basename "${old%.ecpack}").pt"
  rm -f "$old"
done

if [ -n "${EXPORTED:-}" ]; then
  # A pack already exported from CHECKPOINT (training.export --out DIR --vectors DIR/v): reuse it and its vectors.
  cp "$EXPORTED"/edgecodec-hp-*.ecpack "$EXPORTED/edgecodec-hp.MODEL_CARD.md" models/
  cp "$EXPORTED"/v/* tests/vectors/model/
else
  $PY -m training.export --checkpoint "$CHECKPOINT" --out models/
fi
PACK=$(ls models/edgecodec-hp-*.ecpack)
NAME=$(basename "${PACK%.ecpack}")
cp "$CHECKPOINT" "models/checkpoints/$NAME.pt"
bash scripts/regenerate-vectors.sh
$CLI model verify "$PACK"
# The decoder-only copy a device gets (format 2: the same identity, so the vectors verify against it too).
$CLI model strip "$PACK" --out "$WORK"
$CLI model verify "$(ls "$WORK"/*-decoder-*.ecpack)" --vectors tests/vectors/model

# Every proper prefix of the pack's groups (1,2,3 for four groups), read from the checkpoint's recorded latent layout.
PREFIXES=$($PY -c "import sys, torch; from training.model import checkpoint_layout; \
g = checkpoint_layout(torch.load(sys.argv[1], map_location='cpu'))['groups']; print(','.join(map(str, range(1, g))))" "$CHECKPOINT")
$CLI eval --images ../shared/datasets/kodak --backend cpu --compare-backends onnx-fp32 --prefix-layers "$PREFIXES" --compare-analysis \
  --model "$PACK" --json docs/results/kodak-rd.json --plot docs/results/kodak-rd.png
if unzip -Z1 "$PACK" residual/tables.bin >/dev/null 2>&1; then  # the pack has a residual layer (as regenerate-vectors.sh asks)
  # The quality ladder (levels with residual layers) as the test codec, the levels alone as edgecodec-levels.
  $CLI eval --images ../shared/datasets/kodak --backend cpu --ladder --model "$PACK" \
    --json docs/results/kodak-ladder-rd.json --plot docs/results/kodak-ladder-rd.png
  LADDER=(--ladder docs/results/kodak-ladder-rd.json)
fi
VAL="$WORK/validation"
mkdir -p "$VAL"
for i in 046 047 048 049; do ln -sf "$(realpath ../shared/datasets/wikipedia-photos/$i.png)" "$VAL/$i.png"; done
$CLI eval --images "$VAL" --backend cpu --model "$PACK" --compare-tile-sizes 256 --json docs/results/validation-rd.json \
  --plot docs/results/validation-rd.png
if [ -n "${LADDER[*]:-}" ]; then
  $CLI eval --images "$VAL" --backend cpu --ladder --model "$PACK" --json docs/results/validation-ladder-rd.json \
    --plot docs/results/validation-ladder-rd.png
  LADDER+=(--validation-ladder docs/results/validation-ladder-rd.json)
fi
$PY -m training.card --card models/edgecodec-hp.MODEL_CARD.md --pack "$PACK" \
  --kodak docs/results/kodak-rd.json --validation docs/results/validation-rd.json ${LADDER[@]+"${LADDER[@]}"}

KEYS="$WORK/keys-$NAME"  # a fresh key per release: `keys new` never overwrites one
$CLI keys new --out "$KEYS"
cp "$KEYS/publisher.pub.pem" models/adapters/trust/edgecodec-dev.pub.pem
while read -r id expert domain; do
  $PY -m training.adapters --pack "$PACK" --checkpoint "models/checkpoints/$NAME.pt" --domain "$domain" \
    --id "$id" --expert-id "$expert" --images "training/data/images/$domain/train" --steps 400 --out "$WORK/$id"
  $CLI adapters pack --manifest "$WORK/$id/manifest.json" --weights "$WORK/$id/weights.bin" \
    --onnx-patch "$WORK/$id/synthesis.qdq.patch" -o "models/adapters/$id.ecadapter"
  $CLI adapters sign "models/adapters/$id.ecadapter" --key "$KEYS/publisher.key.pem"
done <<'EOF'
illustrations 1 illustrations
screen-content 2 screen
EOF

for set in illustrations screen; do
  $CLI eval --images "training/data/images/$set/val" --backend cpu --adapters auto --model "$PACK" \
    --json "docs/results/adapters-$set.json"
done
$CLI eval --images "$VAL" --backend cpu --adapters auto --model "$PACK" --json docs/results/adapters-photos.json

rm -rf adapter-deploy-out
dotnet run --project samples/AdapterDeploy -c Release
echo "released $NAME; work files in $WORK"
