# Shared by run-aot.sh and run-aot-arm64.sh (sourced): LABEL names the check in its PASS/FAIL line.
fail() { echo "FAIL $LABEL: $1"; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

# Publishing printed no trim or AOT warning (the log is $1).
check_no_aot_warnings() {
  if grep -E 'warning (IL|AOT)[0-9]+' "$1" >/dev/null; then
    grep -E 'warning (IL|AOT)[0-9]+' "$1" | sort -u | head -5
    fail "trim/AOT warnings"
  fi
}

# Every device vector's PNG in $1 has the RGB bytes of the x64 reference (the vectors' rgb-sha256).
check_vector_pngs() {
  local sha name want got
  for sha in device-tests/vectors/*.sha256; do
    name=$(basename "$sha" .sha256)
    want=$(awk '$1 == "rgb-sha256" {print $2}' "$sha")
    got=$(/usr/bin/python3 -c "import hashlib,sys; from PIL import Image; print(hashlib.sha256(Image.open(sys.argv[1]).convert('RGB').tobytes()).hexdigest())" "$1/$name.png") \
      || fail "cannot read $name.png"
    [ "$got" = "$want" ] || fail "$name: rgb $got, expected $want"
  done
}
