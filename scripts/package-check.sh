#!/usr/bin/env bash
# Installs EdgeCodec the way an application does: packs the NuGet packages (EdgeCodec, EdgeCodec.Imaging,
# EdgeCodec.Backends.Cpu and EdgeCodec.Models, the default model pack) into a local feed, then builds an app outside
# this repository from those packages alone and runs it: ModelPack.LoadDefault() must find the pack that
# EdgeCodec.Models copied beside the app, and the app's encode and cpu decode of a sample picture must be byte for
# byte what the repository's own CLI writes; a player app (EdgeCodec, Backends.Cpu and Models only: no native ONNX
# Runtime, and with EdgeCodecModelPack=Decoder the decoder-only copy of the pack, in its build and its publish) must
# decode the same picture; and the edgecodec tool package of this machine's platform, installed with dotnet tool install,
# must write and decode the CLI's bytes. Every package carries a readme, and the first C# block of each library
# package's readme compiles against the packages (and runs, where it needs no files or hardware of its own). Needs the Release build of the solution (scripts/test.sh builds it).
# Prints "PASS package-check: ..." or "FAIL package-check: ...".
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
# A version of its own per run: the machine's NuGet cache never serves an older build of the same version (and the
# run removes its packages from that cache again).
VERSION="0.1.0-check.$(date +%s).$$"
CACHE=$(dotnet nuget locals global-packages --list | sed -nE 's/^global-packages: (.*)$/\1/p')
cleanup() {
  rm -rf "$WORK"
  [ -n "$CACHE" ] && rm -rf "$CACHE"/edgecodec*/"$VERSION"
}
trap cleanup EXIT
FEED="$WORK/feed"
# Every shipping package packs; the apps below use four of them.
for project in sdk/EdgeCodec sdk/EdgeCodec.Imaging sdk/EdgeCodec.Evaluation sdk/EdgeCodec.Streaming backends/EdgeCodec.Backends.Cpu \
    backends/EdgeCodec.Backends.Qnn backends/EdgeCodec.Backends.RaspberryPi sdk/EdgeCodec.Models; do
  dotnet pack "$ROOT/$project" -c Release --no-build -o "$FEED" -p:PackageVersion="$VERSION" -nologo -clp:ErrorsOnly >/dev/null
done
echo "packed: $(cd "$FEED" && ls | tr '\n' ' ')"
# has_readme NUPKG: the package's readme (the project's README.md) is in it and its nuspec names it.
has_readme() {
  python3 - "$1" <<'PY' || { echo "FAIL package-check: $(basename "$1") has no readme (README.md beside its project)"; exit 1; }
import re, sys, zipfile
package = zipfile.ZipFile(sys.argv[1])
nuspec = next(name for name in package.namelist() if name.endswith(".nuspec") and "/" not in name)
names = re.findall(r"<readme>([^<]+)</readme>", package.read(nuspec).decode("utf-8"))
sys.exit(0 if names and names[0] in package.namelist() and package.read(names[0]).strip() else 1)
PY
}
for package in "$FEED"/*.nupkg; do has_readme "$package"; done

ORT=$(sed -nE 's/.*"Microsoft.ML.OnnxRuntime" Version="([^"]+)".*/\1/p' "$ROOT/Directory.Packages.props")
# new_app DIR [PROPERTY:VALUE] PACKAGE[=VERSION]...: an exe project in DIR (under /tmp: no Directory.Build.props,
# Directory.Packages.props or EdgeCodec.sln above it) that restores from the local feed and the registry, sets these
# MSBuild properties and references these packages (the run's version where none is given); its Program.cs comes from
# stdin. Then builds it into DIR/out.
new_app() {
  local dir=$1 ref id; shift
  mkdir -p "$dir"
  cat > "$dir/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$FEED" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
</configuration>
XML
  {
    echo '<Project Sdk="Microsoft.NET.Sdk">'
    echo '  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable>'
    echo '    <ImplicitUsings>enable</ImplicitUsings><TreatWarningsAsErrors>true</TreatWarningsAsErrors>'
    for ref in "$@"; do
      case "$ref" in *:*) echo "    <${ref%%:*}>${ref#*:}</${ref%%:*}>" ;; esac
    done
    echo '  </PropertyGroup>'
    echo '  <ItemGroup>'
    for ref in "$@"; do
      case "$ref" in *:*) continue ;; esac
      id=${ref%%=*}
      echo "    <PackageReference Include=\"$id\" Version=\"$([ "$id" = "$ref" ] && echo "$VERSION" || echo "${ref#*=}")\" />"
    done
    echo '  </ItemGroup>'
    echo '</Project>'
  } > "$dir/$(basename "$dir").csproj"
  cat > "$dir/Program.cs"
  if ! (cd "$dir" && dotnet build -c Release -nologo -clp:ErrorsOnly -o "$dir/out" >"$dir/build.log" 2>&1); then
    tail -20 "$dir/build.log"; echo "FAIL package-check: $(basename "$dir") does not build from the packages"; exit 1
  fi
}

# An app that encodes and decodes; it adds the native ONNX Runtime for the encoder's analysis itself (an app chooses
# its build: CPU, QNN, ...).
new_app "$WORK/app" EdgeCodec EdgeCodec.Imaging EdgeCodec.Backends.Cpu EdgeCodec.Models "Microsoft.ML.OnnxRuntime=$ORT" <<'CS'
using EdgeCodec.Backends.Cpu;
using EdgeCodec.Codec;
using EdgeCodec.Imaging;
using EdgeCodec.Models;

CpuBackend.Register();
string path = ModelPack.FindDefaultPath();
var pack = ModelPack.LoadDefault();
var image = ImageFile.Load(args[0]);
using var encoder = new EdgeCodecEncoder(pack);
byte[] file = encoder.Encode(image, int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture)).ToContainerBytes();
File.WriteAllBytes(args[2], file);
using var decoder = new EdgeCodecDecoder(pack, new DecoderOptions { Backend = "cpu" });
var (frame, _) = decoder.Decode(new MemoryStream(file));
ImageFile.SavePng(frame.Image, args[3]);
Console.WriteLine($"pack {pack.Sha256[..12]} from {Path.GetRelativePath(AppContext.BaseDirectory, path)}; {file.Length} bytes; decoded on {frame.Backend}; pixels {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(frame.Image.Pixels))[..16]}");
CS

# A player: decodes on cpu with no native ONNX Runtime and no imaging package, from the decoder-only copy of the pack
# (EdgeCodecModelPack=Decoder).
new_app "$WORK/player" EdgeCodecModelPack:Decoder EdgeCodec EdgeCodec.Backends.Cpu EdgeCodec.Models <<'CS'
using EdgeCodec.Backends.Cpu;
using EdgeCodec.Codec;
using EdgeCodec.Models;

CpuBackend.Register();
var pack = ModelPack.LoadDefault();
using var decoder = new EdgeCodecDecoder(pack, new DecoderOptions { Backend = "cpu" });
using var input = File.OpenRead(args[0]);
var (frame, _) = decoder.Decode(input);
Console.WriteLine($"pack {pack.Sha256[..12]} without {pack.OmittedEntries.Count} entries; decoded on {frame.Backend}; pixels {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(frame.Image.Pixels))[..16]}");
CS
if compgen -G "$WORK/player/out/*onnxruntime*.so" >/dev/null; then  # (not `ls | grep -q`: under pipefail a match can read as none)
  echo "FAIL package-check: the player carries a native ONNX Runtime it does not need"; exit 1
fi
FULL_PACK=$(ls "$WORK/app/out/models/"*.ecpack)
PLAYER_PACK=$(ls "$WORK/player/out/models/"*.ecpack)
if [ "$(ls "$WORK/player/out/models/" | wc -l)" != 1 ] || [ "$(stat -c %s "$PLAYER_PACK")" -ge "$(( $(stat -c %s "$FULL_PACK") / 2 ))" ]; then
  echo "FAIL package-check: EdgeCodecModelPack=Decoder did not put one decoder-only pack beside the player ($(ls "$WORK/player/out/models/"))"; exit 1
fi
# A device image is a publish, often one file: the pack goes beside it, on disk, where the player reads it.
RID=$(dotnet --info | sed -nE 's/^ *RID: *(.*)$/\1/p' | head -1)
if ! (cd "$WORK/player" && dotnet publish -c Release -r "$RID" --self-contained false -p:PublishSingleFile=true -nologo -clp:ErrorsOnly \
      -o "$WORK/published" >"$WORK/publish.log" 2>&1) \
    || ! cmp -s "$PLAYER_PACK" "$WORK/published/models/$(basename "$PLAYER_PACK")"; then
  tail -5 "$WORK/publish.log"; echo "FAIL package-check: the published single-file player has no pack beside it"; exit 1
fi
# A value the package does not offer stops the build with a message naming the ones it does.
if (cd "$WORK/player" && dotnet build -c Release -nologo -p:EdgeCodecModelPack=Encoder -o "$WORK/bogus" >"$WORK/bogus.log" 2>&1) \
    || ! grep -q "offers Full (the default), Decoder and DecoderOnnx" "$WORK/bogus.log"; then
  tail -5 "$WORK/bogus.log"; echo "FAIL package-check: EdgeCodecModelPack=Encoder was not refused"; exit 1
fi
# Every library package's readme shows its use in its first C# block: all of them compile, in one app, against the
# packages alone (scripts/readme-snippets.py), and those that need no files or hardware of their own run: the core
# SDK's encode and decode, the streaming example's camera and set-top box over TCP on loopback, the CPU backend's
# registration and the QNN backend's (no NPU here: `auto` falls back). NU1603: the registry served to this machine
# lacks the exact versions dotnet/iot's bindings name and gives newer ones (nuget.org has them).
READMES=(sdk/EdgeCodec sdk/EdgeCodec.Imaging sdk/EdgeCodec.Evaluation sdk/EdgeCodec.Streaming backends/EdgeCodec.Backends.Cpu
  backends/EdgeCodec.Backends.Qnn backends/EdgeCodec.Backends.RaspberryPi)
mkdir -p "$WORK/readmes"
python3 "$ROOT/scripts/readme-snippets.py" "$WORK/readmes" "${READMES[@]/%//README.md}"
new_app "$WORK/readmes" NoWarn:NU1603 EdgeCodec EdgeCodec.Imaging EdgeCodec.Evaluation EdgeCodec.Streaming EdgeCodec.Backends.Cpu \
  EdgeCodec.Backends.Qnn EdgeCodec.Backends.RaspberryPi EdgeCodec.Models "Microsoft.ML.OnnxRuntime=$ORT" \
  <<<'await Snippets.RunAsync(int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture), args[1..]); return 0;'
# run_readme INDEX EXPECTED: runs readme INDEX's snippet in a folder of its own; its output must contain EXPECTED.
run_readme() {
  local dir="$WORK/readme-run-$1" out
  mkdir -p "$dir"
  if ! out=$(cd "$dir" && env -u EDGECODEC_MODEL timeout 120 dotnet "$WORK/readmes/out/readmes.dll" "$1" 2>&1) || [[ "$out" != *"$2"* ]]; then
    echo "$out" | tail -10; echo "FAIL package-check: ${READMES[$1]}/README.md's example did not run (expected \"$2\")"; exit 1
  fi
  echo "readme $1 (${READMES[$1]}): ran$([ -n "$2" ] && echo ": $(grep -F "$2" <<<"$out" | tail -1)")"
}
run_readme 0 "640x480, complete: True"
run_readme 3 "finished: True, 10 frames complete"
run_readme 4 "path (this processor offers"
run_readme 5 ""

PICTURE="$ROOT/samples/media/coffee.png"
OUT=$(env -u EDGECODEC_MODEL dotnet "$WORK/app/out/app.dll" "$PICTURE" 2 "$WORK/app.ecx" "$WORK/app.png")
echo "app: $OUT"
PLAYED=$(env -u EDGECODEC_MODEL dotnet "$WORK/player/out/player.dll" "$WORK/app.ecx")
echo "player: $PLAYED"
CLI="dotnet $ROOT/sdk/EdgeCodec.Cli/bin/Release/net10.0/EdgeCodec.Cli.dll"
env -u EDGECODEC_MODEL $CLI encode "$PICTURE" -q 2 -o "$WORK/cli.ecx" >/dev/null
env -u EDGECODEC_MODEL $CLI decode "$WORK/cli.ecx" -o "$WORK/cli.png" -b cpu >/dev/null
case "$OUT" in
  *"from models/"*"decoded on cpu"*) ;;
  *) echo "FAIL package-check: the app did not load the pack beside it or decode on cpu"; exit 1 ;;
esac
PUBLISHED=$(env -u EDGECODEC_MODEL "$WORK/published/player" "$WORK/app.ecx")
if [ "${OUT##*pixels }" != "${PLAYED##*pixels }" ] || [ "$PUBLISHED" != "$PLAYED" ]; then
  echo "FAIL package-check: the player's picture differs from the app's (or the published player's from the built one's: $PUBLISHED)"; exit 1
fi
if [ "${PLAYED:0:17}" != "${OUT:0:17}" ] || [ "${PLAYED#*without }" = "${PLAYED#*without 0 }" ]; then
  echo "FAIL package-check: the player's pack is not a decoder-only copy of the app's"; exit 1
fi
if ! cmp -s "$WORK/app.ecx" "$WORK/cli.ecx" || ! cmp -s "$WORK/app.png" "$WORK/cli.png"; then
  echo "FAIL package-check: the app's container or picture differs from the CLI's"; exit 1
fi

# The CLI as a dotnet tool: the tool package for this machine's platform (each platform's package carries only its own
# natives, and the default pack), installed from the feed into a folder outside the repository, writes and decodes the
# same bytes as the repository's CLI, with no setting.
dotnet pack "$ROOT/sdk/EdgeCodec.Cli" -c Release -o "$FEED" -p:PackageVersion="$VERSION" -p:ToolPackageRuntimeIdentifiers="$RID" \
  -nologo -clp:ErrorsOnly >/dev/null
TOOL_PACKAGE="$FEED/EdgeCodec.Cli.$RID.$VERSION.nupkg"
[ -f "$TOOL_PACKAGE" ] || { echo "FAIL package-check: no $RID tool package ($(ls "$FEED" | grep Cli))"; exit 1; }
has_readme "$TOOL_PACKAGE"
has_readme "$FEED/EdgeCodec.Cli.$VERSION.nupkg"
TOOL_FILES=$(python3 -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$TOOL_PACKAGE")
if grep -q "/runtimes/\|onnxruntime\.dll" <<<"$TOOL_FILES" || ! grep -q "/models/edgecodec-hp-.*\.ecpack" <<<"$TOOL_FILES"; then
  echo "FAIL package-check: the $RID tool package carries other platforms' natives, or not the default pack"; exit 1
fi
dotnet tool install EdgeCodec.Cli --version "$VERSION" --add-source "$FEED" --tool-path "$WORK/tool" >/dev/null
(cd "$WORK" && env -u EDGECODEC_MODEL "$WORK/tool/edgecodec" encode "$PICTURE" -q 2 -o "$WORK/tool.ecx" >/dev/null \
  && env -u EDGECODEC_MODEL "$WORK/tool/edgecodec" decode "$WORK/tool.ecx" -o "$WORK/tool.png" -b cpu >/dev/null 2>&1)
if ! cmp -s "$WORK/tool.ecx" "$WORK/cli.ecx" || ! cmp -s "$WORK/tool.png" "$WORK/cli.png"; then
  echo "FAIL package-check: the installed edgecodec tool's container or picture differs from the CLI's"; exit 1
fi
echo "PASS package-check: an app built from the $VERSION packages alone writes and decodes the CLI's bytes ($(stat -c %s "$WORK/app.ecx")-byte container), a player without native ONNX Runtime decodes the same picture from the decoder-only copy ($(stat -c %s "$PLAYER_PACK") of $(stat -c %s "$FULL_PACK") bytes), and the installed $RID edgecodec tool ($(( $(stat -c %s "$TOOL_PACKAGE") / 1000000 )) MB package) writes and decodes the same bytes"
