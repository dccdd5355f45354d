#!/usr/bin/env bash
# Native AOT for a Raspberry Pi: cross-compiles samples/OfflinePlayback ahead of time for linux-arm64 on this x64
# machine (-r linux-arm64 -p:PublishAot=true, no -p:IlcInstructionSet: the baseline Armv8.0 build), then plays the
# committed device vectors with it under qemu-user on two CPU models:
#   cortex-a76 (Pi 5 class, dot product)  -> the build must pick path AdvSimdDp (AOT checks for sdot at run time)
#   cortex-a72 (Pi 4 class, no dot product) -> path AdvSimd
# and checks every picture against the x64 reference (the vectors' rgb-sha256). One binary serves both Pis.
# Installs what it lacks: clang (or uses clang-14), gcc-aarch64-linux-gnu (the Arm64 C runtime objects, libgcc and
# binutils the link needs), qemu-user-static and the Arm64 libc. Prints "PASS aot arm64 ..." or "FAIL aot arm64: why".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
LABEL="aot arm64"
source device-tests/aot-common.sh

need=()
command -v clang >/dev/null || command -v clang-14 >/dev/null || need+=(clang)
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
command -v qemu-aarch64-static >/dev/null || need+=(qemu-user-static)
[ -e /usr/lib/aarch64-linux-gnu/libc.so.6 ] || need+=(libc6:arm64)
[ -e /usr/lib/aarch64-linux-gnu/libstdc++.so.6 ] || need+=(libstdc++6:arm64)
ls /usr/lib/aarch64-linux-gnu/libssl.so.* >/dev/null 2>&1 || need+=(libssl3:arm64)
if ((${#need[@]})); then
  echo "installing: ${need[*]}"
  as_root dpkg --add-architecture arm64
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null || fail "cannot install ${need[*]}"
fi
compiler=clang; command -v clang >/dev/null || compiler=clang-14

# clang links for the target (--target=aarch64-linux-gnu, the Arm64 runtime pack's static libraries) with the
# cross binutils; the cross objcopy strips the symbols into OfflinePlayback.dbg.
dotnet publish samples/OfflinePlayback -c Release -r linux-arm64 -p:PublishAot=true \
  -p:CppCompilerAndLinker=$compiler -p:ObjCopyName=aarch64-linux-gnu-objcopy -nologo -o "$WORK/bin" \
  > "$WORK/publish.txt" 2>&1 || { tail -20 "$WORK/publish.txt"; fail "publish failed"; }
check_no_aot_warnings "$WORK/publish.txt"
file "$WORK/bin/OfflinePlayback" 2>/dev/null | grep -q 'ARM aarch64' || [ "$(od -An -tx1 -j18 -N2 "$WORK/bin/OfflinePlayback" | tr -d ' ')" = b700 ] \
  || fail "OfflinePlayback is not an Arm64 executable"

mkdir -p "$WORK/in"
cp device-tests/vectors/*.ecx "$WORK/in/"
for entry in cortex-a76:AdvSimdDp cortex-a72:AdvSimd; do
  cpu=${entry%%:*}; isa=${entry##*:}
  out=$(cd "$WORK" && EDGECODEC_MODEL="$ROOT/models" qemu-aarch64-static -cpu "$cpu" "$WORK/bin/OfflinePlayback" "$WORK/in" "$WORK/out-$cpu" cpu 2>&1) \
    || { echo "$out"; fail "$cpu: playback failed"; }
  # ... and CpuBackend.HardwareIsa, read from AT_HWCAP, names the emulated core's path too (not the host's /proc/cpuinfo)
  echo "$out" | grep -q "^cpu backend: $isa path (this CPU: $isa)" || { echo "$out"; fail "$cpu: expected path $isa on a CPU offering $isa"; }
  LABEL="aot arm64 $cpu" check_vector_pngs "$WORK/out-$cpu"
  echo "  $cpu: path $isa, $(ls device-tests/vectors/*.sha256 | wc -l) vectors identical to the x64 reference"
done
echo "PASS aot arm64 ($(stat -c %s "$WORK/bin/OfflinePlayback") bytes native, one binary for cortex-a76 and cortex-a72)"
