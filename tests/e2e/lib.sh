# Shared helpers for the end-to-end tests: real binaries, real ffmpeg, generated clips.
# A test script sources this, calls `check NAME CMD...` or `pass NAME` / `fail NAME WHY`,
# and ends with `finish`. tests/run counts the PASS/FAIL lines.
set -u
VR_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VR_BUILD=${VR_BUILD:-$VR_ROOT/build}
MASTER=$VR_BUILD/master
WORKER=$VR_BUILD/worker
MEDIA=${VR_MEDIA:-$VR_ROOT/../shared/media}
T=$(mktemp -d "${TMPDIR:-/tmp}/vr-e2e.XXXXXX")
trap 'rm -rf "$T"' EXIT
e2e_failed=0

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: ${2:-}"; e2e_failed=1; }
# check NAME CMD...: passes when CMD succeeds
check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name" "$*"; fi; }
finish() { exit $e2e_failed; }

# gen_clip OUT SECONDS [extra ffmpeg output args...]: 320x240 30 fps testsrc2 + 440 Hz tone, H.264/AAC
gen_clip() {
	local out=$1 secs=$2; shift 2
	ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=320x240:rate=30:duration=$secs" \
		-f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$secs" \
		-c:v libx264 -preset ultrafast -g 30 -pix_fmt yuv420p -c:a aac "$@" "$out"
}
# frames FILE: decoded video frames
frames() { ffprobe -v error -select_streams v:0 -count_frames -show_entries stream=nb_read_frames -of csv=p=0 "$1"; }
# duration FILE [v|a]: stream duration in seconds
duration() { ffprobe -v error -select_streams "${2:-v}:0" -show_entries stream=duration -of csv=p=0 "$1"; }
# has_audio FILE: succeeds when there is an audio stream
has_audio() { [ -n "$(ffprobe -v error -select_streams a -show_entries stream=index -of csv=p=0 "$1")" ]; }
# dims FILE: WxH of the video stream
dims() { ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=s=x:p=0 "$1"; }
# near A B TOL: |A-B| <= TOL (floats)
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }
# jget JSON KEY: a top-level field of a JSON object (python3-free: uses jq if present, else node)
jget() { node -e 'const o=JSON.parse(require("fs").readFileSync(0,"utf8")); const v=o[process.argv[1]]; console.log(typeof v==="object"?JSON.stringify(v):v)' "$2" <<<"$1"; }
