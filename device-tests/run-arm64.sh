#!/usr/bin/env bash
# Arm64 device check of the CPU backend (backends/EdgeCodec.Backends.Cpu) under qemu-user, on two CPU models:
#   cortex-a76  has the dot-product extension  -> path AdvSimdDp (sdot)
#   cortex-a72  has none (Raspberry Pi 4 class) -> path AdvSimd (smlal)
# For each: every kernel path vs the scalar reference (random + worst-case convs, add, quantize, the real pack's
# synthesis window and hyper graph), then a real stream (vectors/*.ecx) whose latent and reconstruction hashes must
# equal the ones recorded on x64 from the scalar reference. Exits non-zero on any mismatch.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/device-tests/out/linux-arm64}
CASES=${CASES:-30}

need=()
command -v qemu-aarch64-static >/dev/null 2>&1 || need+=(qemu-user-static)
[ -e /usr/lib/aarch64-linux-gnu/libc.so.6 ] || need+=(libc6:arm64)
[ -e /usr/lib/aarch64-linux-gnu/libstdc++.so.6 ] || need+=(libstdc++6:arm64)
# SHA-256 (model pack and stream hashes) goes through OpenSSL on Linux.
ls /usr/lib/aarch64-linux-gnu/libssl.so.* >/dev/null 2>&1 || need+=(libssl3:arm64)
if ((${#need[@]})); then
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "installing: ${need[*]}"
  $SUDO dpkg --add-architecture arm64
  $SUDO apt-get update
  $SUDO apt-get install -y "${need[@]}"
fi

# Self-contained: NuGet serves the linux-arm64 runtime pack.
dotnet publish "$ROOT/backends/EdgeCodec.Backends.Cpu.Check/EdgeCodec.Backends.Cpu.Check.csproj" \
  -c Release -r linux-arm64 --self-contained -o "$OUT" -nologo -v quiet

MODEL=${MODEL:-$(ls "$ROOT"/models/edgecodec-hp-*.ecpack | head -n 1)}
APP="$OUT/EdgeCodec.Backends.Cpu.Check"
# The JIT's W^X double mapping is slow and fragile under qemu-user.
export DOTNET_EnableWriteXorExecute=0

status=0
for entry in cortex-a76:AdvSimdDp cortex-a72:AdvSimd; do
  cpu=${entry%%:*}; isa=${entry##*:}
  result=PASS
  log="$OUT/$cpu.log"
  if ! qemu-aarch64-static -cpu "$cpu" "$APP" compare --model "$MODEL" --cases "$CASES" --expect-isa "$isa" >"$log" 2>&1; then
    result=FAIL
  fi
  for v in "$ROOT"/device-tests/vectors/*.ecx; do
    if ! qemu-aarch64-static -cpu "$cpu" "$APP" vector "$v" "${v%.ecx}.sha256" --model "$MODEL" >>"$log" 2>&1; then
      result=FAIL
    fi
  done
  grep -E '^(PASS|FAIL|OK|MISMATCH)' "$log" | sed "s/^/  $cpu: /" || true
  echo "$result $cpu (expected path $isa): kernels vs scalar reference, stream hashes vs x64 -- log $log"
  [ "$result" = PASS ] || status=1
done

# Raspberry Pi package: RGB565 vector path vs scalar, thermal scenarios on a fake sysfs tree, exact SPI bytes, and
# the rpi backend on a fake board decoding the device vectors (on the cpu engine) to the x64 pictures.
PI_OUT="$OUT-pi"
dotnet publish "$ROOT/backends/EdgeCodec.Backends.RaspberryPi.Check/EdgeCodec.Backends.RaspberryPi.Check.csproj" \
  -c Release -r linux-arm64 --self-contained -o "$PI_OUT" -nologo -v quiet
for cpu in cortex-a76 cortex-a72; do
  log="$PI_OUT/$cpu.log"
  isa=AdvSimd; [ "$cpu" = cortex-a76 ] && isa=AdvSimdDp
  if qemu-aarch64-static -cpu "$cpu" "$PI_OUT/EdgeCodec.Backends.RaspberryPi.Check" --vectors "$ROOT/device-tests/vectors" \
      --model "$MODEL" --expect-isa "$isa" >"$log" 2>&1; then
    echo "PASS $cpu: Raspberry Pi package checks -- log $log"
  else
    echo "FAIL $cpu: Raspberry Pi package checks -- log $log"; sed 's/^/  /' "$log"; status=1
  fi
done

# The encoder on Arm64 (a camera): ONNX Runtime's linux-arm64 kernels run the analysis, fp32 and, where the pack has
# it, int8 (onnx/analysis.qdq.onnx). Encoder arithmetic may differ between machines (only the decoder's may not), so
# the check is that each stream decodes on x64 to within 0.1 dB of the x64 encoder's picture at a size within 3 %.
CLI_OUT="$OUT-cli"
PY=/usr/bin/python3  # Debian's, with numpy and PIL (the training toolchain's)
dotnet publish "$ROOT/sdk/EdgeCodec.Cli/EdgeCodec.Cli.csproj" -c Release -r linux-arm64 --self-contained -o "$CLI_OUT" -nologo -v quiet
X64="dotnet $ROOT/sdk/EdgeCodec.Cli/bin/Release/net10.0/EdgeCodec.Cli.dll"
CROP="$CLI_OUT/coffee-256x192.png"
$PY -c "from PIL import Image; Image.open('$ROOT/samples/media/coffee.png').convert('RGB').crop((240, 150, 496, 342)).save('$CROP')"
analyses=Float32
# (zipinfo with a name exits non-zero when the archive has no such entry; `unzip -l | grep -q` would fail under
# pipefail whenever grep stops reading before unzip has written its whole listing.)
if unzip -Z1 "$MODEL" onnx/analysis.qdq.onnx >/dev/null 2>&1; then analyses="Float32 Int8"; else
  echo "SKIP int8 analysis: $(basename "$MODEL") has no onnx/analysis.qdq.onnx (packs exported since session 41 have it)"; fi
for a in $analyses; do
  $X64 encode "$CROP" -o "$CLI_OUT/x64-$a.ecx" -q 3 -m "$MODEL" --analysis "$a" -t 1 >/dev/null
  $X64 decode "$CLI_OUT/x64-$a.ecx" -o "$CLI_OUT/x64-$a.png" -m "$MODEL" -b cpu >/dev/null
  for cpu in cortex-a76 cortex-a72; do
    log="$CLI_OUT/$cpu-$a.log"
    if qemu-aarch64-static -cpu "$cpu" "$CLI_OUT/EdgeCodec.Cli" encode "$CROP" -o "$CLI_OUT/$cpu-$a.ecx" -q 3 -m "$MODEL" \
         --analysis "$a" -t 1 >"$log" 2>&1 \
       && $X64 decode "$CLI_OUT/$cpu-$a.ecx" -o "$CLI_OUT/$cpu-$a.png" -m "$MODEL" -b cpu >>"$log" 2>&1 \
       && $PY - "$CROP" "$CLI_OUT/x64-$a" "$CLI_OUT/$cpu-$a" >>"$log" 2>&1 <<'PY'
import math, os, sys
import numpy as np
from PIL import Image
src = np.asarray(Image.open(sys.argv[1]).convert("RGB"), dtype=np.float64)
def psnr(stem):
    d = np.asarray(Image.open(stem + ".png").convert("RGB"), dtype=np.float64)
    return 10 * math.log10(255 ** 2 / ((d - src) ** 2).mean())
(x, a), (nx, na) = (psnr(s) for s in sys.argv[2:4]), (os.path.getsize(s + ".ecx") for s in sys.argv[2:4])
print(f"x64 {nx} B {x:.3f} dB, arm64 {na} B {a:.3f} dB")
sys.exit(0 if abs(a - x) < 0.1 and abs(na / nx - 1) < 0.03 else 1)
PY
    then echo "PASS $cpu: encoder, $a analysis: $(tail -n 1 "$log")"
    else echo "FAIL $cpu: encoder, $a analysis -- log $log"; sed 's/^/  /' "$log"; status=1
    fi
  done
done
exit $status
