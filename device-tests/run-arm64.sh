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

MODEL=$(ls "$ROOT"/models/edgecodec-hp-*.ecpack | head -n 1)
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

# Raspberry Pi package: RGB565 vector path vs scalar, thermal scenarios on a fake sysfs tree, exact SPI bytes.
PI_OUT="$OUT-pi"
dotnet publish "$ROOT/backends/EdgeCodec.Backends.RaspberryPi.Check/EdgeCodec.Backends.RaspberryPi.Check.csproj" \
  -c Release -r linux-arm64 --self-contained -o "$PI_OUT" -nologo -v quiet
for cpu in cortex-a76 cortex-a72; do
  log="$PI_OUT/$cpu.log"
  if qemu-aarch64-static -cpu "$cpu" "$PI_OUT/EdgeCodec.Backends.RaspberryPi.Check" >"$log" 2>&1; then
    echo "PASS $cpu: Raspberry Pi package checks -- log $log"
  else
    echo "FAIL $cpu: Raspberry Pi package checks -- log $log"; sed 's/^/  /' "$log"; status=1
  fi
done
exit $status
