#!/usr/bin/env bash
# Native AOT: publishes samples/OfflinePlayback ahead of time for this machine's instruction set
# (-p:PublishAot=true -p:IlcInstructionSet=native), plays the committed device vectors with it on the `cpu` backend,
# and checks that every picture is the x64 reference's (the vectors' rgb-sha256) and that the build printed no
# instruction-set warning (a baseline-ISA build would run the scalar path; docs/backends.md, "Native AOT").
# Installs clang and zlib1g-dev when missing (the AOT compiler links with them). Prints "PASS aot" or "FAIL aot: why".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
LABEL=aot
source device-tests/aot-common.sh
linker=()
if ! command -v clang >/dev/null; then
  if command -v clang-14 >/dev/null; then linker=(-p:CppCompilerAndLinker=clang-14)
  else as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang zlib1g-dev >/dev/null || fail "cannot install clang"; fi
fi
if [ ! -e /usr/include/zlib.h ]; then
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zlib1g-dev >/dev/null || fail "cannot install zlib1g-dev"
fi

dotnet publish samples/OfflinePlayback -c Release -r linux-x64 -p:PublishAot=true -p:IlcInstructionSet=native \
  "${linker[@]}" -o "$WORK/bin" > "$WORK/publish.txt" 2>&1 || { tail -20 "$WORK/publish.txt"; fail "publish failed"; }
check_no_aot_warnings "$WORK/publish.txt"

mkdir -p "$WORK/in"
cp device-tests/vectors/*.ecx "$WORK/in/"
# The binary lives outside the repository, so name the folder; the SDK picks its newest pack, as the tests do.
out=$(cd "$WORK" && EDGECODEC_MODEL="$ROOT/models" "$WORK/bin/OfflinePlayback" "$WORK/in" "$WORK/out" cpu 2>&1) || { echo "$out"; fail "playback failed"; }
echo "$out"
if echo "$out" | grep -q '^warning:'; then fail "the AOT build cannot use this CPU's widest path"; fi
check_vector_pngs "$WORK/out"
echo "PASS aot ($(stat -c %s "$WORK/bin/OfflinePlayback") bytes native, $(ls device-tests/vectors/*.sha256 | wc -l) vectors identical to the x64 reference)"
