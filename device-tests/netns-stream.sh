#!/usr/bin/env bash
# Streaming over a real (virtual) network: CameraUplink and SetTopBoxPlayer as two processes in two network
# namespaces joined by a veth pair; the camera's side shaped with `tc qdisc ... tbf` (bandwidth); latency,
# connection resets and an outage injected by a userspace TCP proxy (netns/impair_proxy.py) in front of the
# player. Passes when the player's offline store ends byte-identical to what the camera encoded, after at least
# one reconnect. Needs root (ip netns); skips with a clear message where the kernel refuses namespaces.
# UPLINK_QUALITY (default auto; fit, or a level) is CameraUplink's quality argument, UPLINK_RATE (default 4mbit) the
# tbf rate, UPLINK_BURST (default 32kb) its bucket, UPLINK_FPS (default 4) the camera frame rate, UPLINK_FRAMES
# (default 16) the number of frames, UPLINK_RESETS (default 0.05) the proxy's random resets per second (0 for runs
# that should differ only in the camera's choices), UPLINK_PREVIEW=1 the camera's --preview-layer, UPLINK_INPUT
# (default yuv: the frames as raw NV12 video piped into the camera's standard input, as a capture process would
# write them; png: a folder of PNG files), e.g. `UPLINK_RATE=48kbit UPLINK_FPS=1 UPLINK_QUALITY=fit bash device-tests/netns-stream.sh`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CAM=ec-cam-$$ STB=ec-stb-$$ VCAM=ecv$$a VSTB=ecv$$b
WORK=$(mktemp -d)
cleanup() {
  ip netns pids "$CAM" 2>/dev/null | xargs -r kill 2>/dev/null || true
  ip netns pids "$STB" 2>/dev/null | xargs -r kill 2>/dev/null || true
  ip netns del "$CAM" 2>/dev/null || true
  ip netns del "$STB" 2>/dev/null || true
  [ -n "${KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

if ! ip netns add "$CAM" 2>/dev/null; then
  echo "SKIP netns-stream: this kernel/sandbox refuses network namespaces (ip netns add failed)"; exit 0
fi
ip netns add "$STB"
ip link add "$VCAM" netns "$CAM" type veth peer name "$VSTB" netns "$STB"
ip -n "$CAM" addr add 10.213.0.1/24 dev "$VCAM"
ip -n "$STB" addr add 10.213.0.2/24 dev "$VSTB"
for ns in "$CAM" "$STB"; do ip -n "$ns" link set lo up; done
ip -n "$CAM" link set "$VCAM" up
ip -n "$STB" link set "$VSTB" up
# 4 Mbit/s uplink with a 64 KB queue (tbf: this kernel has no netem).
RATE=${UPLINK_RATE:-4mbit} QUALITY=${UPLINK_QUALITY:-auto}
ip netns exec "$CAM" tc qdisc add dev "$VCAM" root tbf rate "$RATE" burst "${UPLINK_BURST:-32kb}" latency 300ms

BUILD="$ROOT/samples"
dotnet build "$BUILD/CameraUplink/CameraUplink.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly
dotnet build "$BUILD/SetTopBoxPlayer/SetTopBoxPlayer.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly

# Sixteen frames (crops of the two sample photos) at 4 fps, so the stream is still running at the outage; as PNG
# files, and as one raw NV12 video (full-range BT.601, the JPEG matrix PIL's YCbCr uses; chroma box-averaged).
mkdir -p "$WORK/frames"
/usr/bin/python3 - "$ROOT/samples/media" "$WORK/frames" "${UPLINK_FRAMES:-16}" "$WORK/video.nv12" <<'PY'
import sys
from PIL import Image
src, dst, video = sys.argv[1], sys.argv[2], open(sys.argv[4], "wb")
photos = [Image.open(f"{src}/{n}.png").convert("RGB") for n in ("astronaut", "coffee")]
for i in range(int(sys.argv[3])):
    im = photos[i % 2]
    x = (i * 37) % (im.width - 384); y = (i * 53) % (im.height - 256)
    crop = im.crop((x, y, x + 384, y + 256))
    crop.save(f"{dst}/{i:02d}.png")
    luma, cb, cr = crop.convert("YCbCr").split()
    cb, cr = (c.resize((192, 128), Image.BOX).tobytes() for c in (cb, cr))
    video.write(luma.tobytes() + bytes(b for pair in zip(cb, cr) for b in pair))
PY
if [ "${UPLINK_INPUT:-yuv}" = yuv ]; then
  INPUT=(- --yuv nv12:384x256:bt601-full); FEED=(cat "$WORK/video.nv12")
else
  INPUT=("$WORK/frames"); FEED=(true)
fi

ip netns exec "$STB" dotnet "$BUILD/SetTopBoxPlayer/bin/Release/net10.0/SetTopBoxPlayer.dll" "$WORK/player" 5599 auto >"$WORK/player.log" 2>&1 &
PLAYER=$!
ip netns exec "$STB" /usr/bin/python3 "$ROOT/device-tests/netns/impair_proxy.py" --listen 10.213.0.2:9001 \
  --target 127.0.0.1:5599 --latency-ms 40 --outage 4:3 --reset-per-second "${UPLINK_RESETS:-0.05}" --duration 240 >"$WORK/proxy.log" 2>&1 &
sleep 2
if ! "${FEED[@]}" | EDGECODEC_UPLINK_DUMP="$WORK/sent" timeout 150 ip netns exec "$CAM" \
    dotnet "$BUILD/CameraUplink/bin/Release/net10.0/CameraUplink.dll" "${INPUT[0]}" 10.213.0.2 9001 "$QUALITY" "${UPLINK_FPS:-4}" \
    ${UPLINK_PREVIEW:+--preview-layer} "${INPUT[@]:1}" >"$WORK/camera.log" 2>&1; then
  echo "FAIL netns-stream: the camera did not finish"; tail -5 "$WORK/camera.log"; exit 1
fi
timeout 60 tail --pid="$PLAYER" -f /dev/null || true

status=0
for sent in "$WORK"/sent/frame-*.ecx; do
  stored="$WORK/player/store/$(basename "$sent")"
  if ! cmp -s "$sent" "$stored"; then echo "MISMATCH $(basename "$sent")"; status=1; fi
done
connections=$(grep -oE '[0-9]+ connection' "$WORK/camera.log" | grep -oE '[0-9]+' || echo 0)
grep -E '^(done|outage|proxy done)' "$WORK/camera.log" "$WORK/player.log" "$WORK/proxy.log" | sed 's/^/  /' || true
# Per frame: quality level / layers, and the bytes it took on the link.
echo "  frames ($QUALITY, $RATE): $(grep -E '^frame [0-9]+:' "$WORK/camera.log" | sed -E 's/.*quality ([0-9]+(\+r[0-9]+)?), ([0-9]+) layers.* ([0-9]+) bytes on the link.*/q\1\/\3:\4/' | tr '\n' ' ')"
sent_frames=$(ls "$WORK"/sent | wc -l)
if [ "$sent_frames" != "${UPLINK_FRAMES:-16}" ]; then echo "MISSING: the camera sent $sent_frames of ${UPLINK_FRAMES:-16} frames"; status=1; fi
if [ "$status" = 0 ] && [ "${connections:-0}" -ge 2 ]; then
  echo "PASS netns-stream: $sent_frames frames (${UPLINK_INPUT:-yuv}) byte-identical after $connections connections (quality $QUALITY, tbf $RATE, 40 ms, outage, resets)"
else
  echo "FAIL netns-stream: store differs or no reconnect happened (connections: ${connections:-0})"; exit 1
fi
