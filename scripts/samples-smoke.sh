#!/usr/bin/env bash
# Runs the README's demo (samples/QuickStart) and the deployment samples on the bundled model and media, and checks
# what each reports, not only that it exits 0:
#   QuickStart       every row beats JPEG's PSNR at JPEG's nearest size (the demo's claim)
#   OfflinePlayback  a complete container plays whole; one cut to 80 % (a power loss) still gives a picture
#   AdapterDeploy    the adapter is verified, installed, and decodes at least as well as the base model
#   PiPlayer         decodes a container headless (no display, no thermal zones here) on the SIMD engine
# Prints "PASS <sample>" or "FAIL <sample>: why" per sample; exits 1 if any failed. Expects a Release build.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
run() { local project=$1; shift; (cd "$WORK" && dotnet run --project "$ROOT/samples/$project" -c Release --no-build -- "$@"); }
fails=0
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); }

if ! run QuickStart > "$WORK/quickstart.txt" 2>&1; then
  fail QuickStart "exit code $? ($(tail -3 "$WORK/quickstart.txt"))"
else
  # Rows: name [+r] bytes bpp PSNR time backend synthesis | q bytes PSNR
  rows=$(awk -F'|' 'NF == 2 && $1 ~ /[0-9]ms/' "$WORK/quickstart.txt" | wc -l)
  worse=$(awk -F'|' 'NF == 2 && $1 ~ /[0-9]ms/ {
      n = split($1, a, " "); m = split($2, b, " ");
      for (i = 1; i <= n; i++) if (a[i] ~ /ms$/) psnr = a[i - 1];
      if (psnr + 0 <= b[m] + 0) print $0 }' "$WORK/quickstart.txt")
  if [ "$rows" -lt 6 ]; then fail QuickStart "expected 6 rows, got $rows"; cat "$WORK/quickstart.txt"
  elif [ -n "$worse" ]; then fail QuickStart "not above JPEG: $worse"
  else echo "PASS QuickStart ($rows rows, each above JPEG's PSNR)"; fi
fi

ECX=/tmp/edgecodec-quickstart/astronaut.ecx  # written by QuickStart
if [ ! -f "$ECX" ]; then
  fail OfflinePlayback "no container from QuickStart"
else
  head -c $(( $(stat -c %s "$ECX") * 8 / 10 )) "$ECX" > "$WORK/cut.ecx"
  out=$(run OfflinePlayback "$ECX" "$WORK/play" 2>&1; run OfflinePlayback "$WORK/cut.ecx" "$WORK/play" 2>&1)
  if echo "$out" | grep -E '^astronaut.ecx: Complete, .* missing tiles 0' >/dev/null \
     && echo "$out" | grep -E '^cut.ecx: Truncated, .*layers per tile \[[1-9]' >/dev/null \
     && [ -s "$WORK/play/cut.png" ]; then
    echo "PASS OfflinePlayback (complete, and cut to 80 %)"
  else fail OfflinePlayback "$out"; fi
fi

out=$(run AdapterDeploy "$ROOT/samples/media/screen.png" "$WORK/deploy" 2>&1)
with=$(echo "$out" | sed -nE 's/.*PSNR with adapter ([0-9.]+) dB, base only ([0-9.]+) dB.*/\1 \2/p')
if echo "$out" | grep 'verified and installed' >/dev/null && [ -n "$with" ] && awk -v w="$with" 'BEGIN { split(w, a, " "); exit !(a[1] >= a[2]) }'; then
  echo "PASS AdapterDeploy (with / base PSNR: $with)"
else fail AdapterDeploy "$out"; fi

if [ -f "$ECX" ]; then
  out=$(run PiPlayer "$ECX" --no-display 2>&1)
  if echo "$out" | grep -E '^astronaut.ecx: 512x512, .* ms on cpu$' >/dev/null; then echo "PASS PiPlayer ($out)"; else fail PiPlayer "$out"; fi
fi

[ "$fails" = 0 ]
