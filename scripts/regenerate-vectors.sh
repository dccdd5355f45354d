#!/usr/bin/env bash
# After exporting a new model pack (python3 -m training.export), rewrite every vector that is tied to the pack:
#   tests/vectors/model/vectors.{json,bin}   written by the export itself (Python integer reference)
#   tests/vectors/model/golden-q2.{ecx,sha256}  container + hash of its reference decode (C#); golden-q2-residual.* the
#     same with a residual layer (packs with residual tables)
#   device-tests/vectors/coffee-128x96-q2.{ecx,sha256}  stream for the Arm64 checks (C#, x64 scalar reference);
#     coffee-128x96-q2-r2.* the same with a residual layer of step 2 (packs with residual tables), hashed with every
#     vector kernel off, so that the layer's NEON inverse is checked against the scalar one
#   device-tests/vectors/coffee-320x192-t128-q3.{ecx,sha256}  a stream of 3×2 entropy tiles of 128 px (tiles decoded
#     in parallel, and a kept decoder's tiles handing their arrays to each other); coffee-320x192-t128-q3-preview.* its
#     preview layer alone (trim --preview-layer -l 1: every tile from its hyper-latent, groups at their predicted means)
# Changing these is the deliberate act that a new model or a format change requires.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build EdgeCodec.sln -c Release -nologo -clp:ErrorsOnly
PACK=$(ls models/edgecodec-hp-*.ecpack | head -n 1)
echo "pack: $PACK"

EDGECODEC_REGENERATE_VECTORS=1 dotnet test sdk/EdgeCodec.Tests -c Release --no-build -nologo \
  --filter "FullyQualifiedName~GoldenStreamTests" | tail -n 2

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
/usr/bin/python3 - "$TMP/crop.png" <<'PY'
import sys
from PIL import Image
im = Image.open("samples/media/coffee.png").convert("RGB")
im.crop((240, 150, 240 + 128, 150 + 96)).save(sys.argv[1])
im.crop((40, 24, 40 + 320, 24 + 192)).save(sys.argv[1].replace("crop.png", "tiles.png"))
PY
dotnet sdk/EdgeCodec.Cli/bin/Release/net10.0/EdgeCodec.Cli.dll encode "$TMP/crop.png" -q 2 \
  -o device-tests/vectors/coffee-128x96-q2.ecx --model "$PACK"
dotnet backends/EdgeCodec.Backends.Cpu.Check/bin/Release/net10.0/EdgeCodec.Backends.Cpu.Check.dll vector \
  device-tests/vectors/coffee-128x96-q2.ecx device-tests/vectors/coffee-128x96-q2.sha256 --model "$PACK" --write
dotnet sdk/EdgeCodec.Cli/bin/Release/net10.0/EdgeCodec.Cli.dll encode "$TMP/tiles.png" -q 3 --tile-size 128 \
  -o device-tests/vectors/coffee-320x192-t128-q3.ecx --model "$PACK"
dotnet backends/EdgeCodec.Backends.Cpu.Check/bin/Release/net10.0/EdgeCodec.Backends.Cpu.Check.dll vector \
  device-tests/vectors/coffee-320x192-t128-q3.ecx device-tests/vectors/coffee-320x192-t128-q3.sha256 --model "$PACK" --write
dotnet sdk/EdgeCodec.Cli/bin/Release/net10.0/EdgeCodec.Cli.dll trim device-tests/vectors/coffee-320x192-t128-q3.ecx   --preview-layer -l 1 -o device-tests/vectors/coffee-320x192-t128-q3-preview.ecx
dotnet backends/EdgeCodec.Backends.Cpu.Check/bin/Release/net10.0/EdgeCodec.Backends.Cpu.Check.dll vector   device-tests/vectors/coffee-320x192-t128-q3-preview.ecx device-tests/vectors/coffee-320x192-t128-q3-preview.sha256 --model "$PACK" --write
if unzip -Z1 "$PACK" residual/tables.bin >/dev/null 2>&1; then  # (not `unzip -l | grep -q`: a race under pipefail)
  dotnet sdk/EdgeCodec.Cli/bin/Release/net10.0/EdgeCodec.Cli.dll encode "$TMP/crop.png" -q 2 --residual 2 \
    -o device-tests/vectors/coffee-128x96-q2-r2.ecx --model "$PACK"
  DOTNET_EnableHWIntrinsic=0 dotnet backends/EdgeCodec.Backends.Cpu.Check/bin/Release/net10.0/EdgeCodec.Backends.Cpu.Check.dll vector \
    device-tests/vectors/coffee-128x96-q2-r2.ecx device-tests/vectors/coffee-128x96-q2-r2.sha256 --model "$PACK" --write
else
  rm -f device-tests/vectors/coffee-128x96-q2-r2.*
fi
echo "vectors regenerated for $(basename "$PACK")"
