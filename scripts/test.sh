#!/usr/bin/env bash
# Runs every test suite of EdgeCodec: .NET tests, the training toolchain tests, the fuzz smoke run, the samples
# (the README's demo among them), an app built from the NuGet packages alone, the Arm64 checks under qemu and the
# two-namespace streaming run.
# Installs what it needs on Debian 12 (needs root or sudo for apt-get); prints one closing line
# "tests: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
LOG=$(mktemp -d)
trap 'rm -rf "$LOG"' EXIT

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Debian's PyTorch/ONNX for the training toolchain (PyPI is not used).
PY=/usr/bin/python3
if ! "$PY" -c "import torch, onnx, PIL, numpy, pytest" 2>/dev/null; then
  echo "== installing python3-torch python3-onnx python3-pil python3-numpy python3-pytest"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    python3-torch python3-onnx python3-pil python3-numpy python3-pytest >/dev/null
fi

echo "== build (Release)"
dotnet build EdgeCodec.sln -c Release -nologo -clp:ErrorsOnly

passed=0; failed=0
echo "== .NET tests"
set +e
dotnet test EdgeCodec.sln -c Release --no-build -nologo 2>&1 | tee "$LOG/dotnet.txt"
dotnet_rc=${PIPESTATUS[0]}
set -e
while read -r f p; do passed=$((passed + p)); failed=$((failed + f)); done < <(
  sed -nE 's/.*Failed:[[:space:]]*([0-9]+), Passed:[[:space:]]*([0-9]+),.*/\1 \2/p' "$LOG/dotnet.txt")
if [ "$dotnet_rc" != 0 ] && [ "$failed" = 0 ]; then failed=$((failed + 1)); fi

echo "== training toolchain tests (pytest)"
set +e
"$PY" -m pytest training/tests -q -p no:cacheprovider 2>&1 | tee "$LOG/pytest.txt"
py_rc=${PIPESTATUS[0]}
set -e
p=$( (grep -oE '[0-9]+ passed' "$LOG/pytest.txt" || true) | tail -1 | grep -oE '[0-9]+' || echo 0)
f=$( (grep -oE '[0-9]+ (failed|error)' "$LOG/pytest.txt" || true) | awk '{s+=$1} END {print s+0}')
passed=$((passed + p)); failed=$((failed + f))
if [ "$py_rc" != 0 ] && [ "$f" = 0 ]; then failed=$((failed + 1)); fi

if [ -d sdk/EdgeCodec.Fuzz ] && grep -q smoke sdk/EdgeCodec.Fuzz/*.cs 2>/dev/null; then
  echo "== fuzz smoke (bounded)"
  if dotnet run --project sdk/EdgeCodec.Fuzz -c Release --no-build -- smoke --seconds 20; then
    passed=$((passed + 1)); else failed=$((failed + 1)); fi
fi

echo "== samples: the README's demo (QuickStart), OfflinePlayback, AdapterDeploy, PiPlayer (scripts/samples-smoke.sh)"
set +e
bash scripts/samples-smoke.sh 2>&1 | tee "$LOG/samples.txt"
samples_rc=${PIPESTATUS[0]}
set -e
passed=$((passed + $(grep -c '^PASS ' "$LOG/samples.txt" || true)))
samples_failed=$(grep -c '^FAIL ' "$LOG/samples.txt" || true)
if [ "$samples_rc" != 0 ] && [ "$samples_failed" = 0 ]; then samples_failed=1; fi
failed=$((failed + samples_failed))

echo "== NuGet packages: an app outside the repository built from them alone (scripts/package-check.sh)"
if bash scripts/package-check.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

echo "== Arm64 CPU backend under qemu (cortex-a76 with dot product, cortex-a72 without)"
if bash device-tests/run-arm64.sh; then passed=$((passed + 2)); else failed=$((failed + 1)); fi

echo "== Native AOT: OfflinePlayback published ahead of time for this CPU, the device vectors bit-exact (device-tests/run-aot.sh)"
if bash device-tests/run-aot.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

echo "== Native AOT for Arm64: OfflinePlayback cross-compiled, run under qemu on cortex-a76 and cortex-a72 (device-tests/run-aot-arm64.sh)"
if bash device-tests/run-aot-arm64.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); fi

echo "== streaming over two network namespaces (veth + tc tbf + impairment proxy, outage and reconnect)"
if ! command -v ip >/dev/null || ! command -v tc >/dev/null; then
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null || true
fi
if [ "$(id -u)" != 0 ] && ! sudo -n true 2>/dev/null; then
  echo "SKIP netns-stream: network namespaces need root"
else
  set +e
  as_root bash device-tests/netns-stream.sh 2>&1 | tee "$LOG/netns.txt"
  netns_rc=${PIPESTATUS[0]}
  set -e
  if [ "$netns_rc" != 0 ]; then failed=$((failed + 1));
  elif grep -q '^PASS netns-stream' "$LOG/netns.txt"; then passed=$((passed + 1)); fi
fi

echo "tests: $passed passed, $failed failed"
[ "$failed" = 0 ]
