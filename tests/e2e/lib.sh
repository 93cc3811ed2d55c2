# Shared helpers for the end-to-end tests: real binaries, real ffmpeg, generated clips.
# A test script sources this, calls `check NAME CMD...` or `pass NAME` / `fail NAME WHY`
# (`skip NAME WHY` for a check that cannot run here), and ends with `finish`. tests/run counts
# the PASS/FAIL/SKIP lines.
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
skip() { echo "SKIP $1: ${2:-}"; }
# have_media NAME...: succeeds when the real footage (../shared/media, or $VR_MEDIA) is there;
# else says SKIP for each NAME, so a clone without it passes with those checks skipped
have_media() {
	[ -r "$MEDIA/MANIFEST.tsv" ] && return 0
	local name
	for name in "$@"; do skip "$name" "no real footage at $MEDIA (set VR_MEDIA)"; done
	return 1
}

# gen_clip OUT SECONDS [extra ffmpeg output args...]: 320x240 30 fps testsrc2 + 440 Hz tone, H.264/AAC
gen_clip() {
	local out=$1 secs=$2; shift 2
	ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=320x240:rate=30:duration=$secs" \
		-f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$secs" \
		-c:v libx264 -preset ultrafast -g 30 -pix_fmt yuv420p -c:a aac "$@" "$out"
}
# frames FILE: decoded video frames
# (the first field of the first line: side data such as a display matrix adds empty fields)
frames() { ffprobe -v error -select_streams v:0 -count_frames -show_entries stream=nb_read_frames -of csv=p=0 "$1" | head -n 1 | cut -d, -f1; }
# duration FILE [v|a]: stream duration in seconds
# pts FILE: the video's packet times, in presentation order, from the first frame's
pts() { ffprobe -v error -select_streams v:0 -show_entries packet=pts_time -of csv=p=0 "$1" | sort -g | awk 'NR == 1 { o = $1 } { printf "%.6f\n", $1 - o }'; }
duration() { ffprobe -v error -select_streams "${2:-v}:0" -show_entries stream=duration -of csv=p=0 "$1" | head -n 1 | cut -d, -f1; }
# has_audio FILE: succeeds when there is an audio stream
has_audio() { [ -n "$(ffprobe -v error -select_streams a -show_entries stream=index -of csv=p=0 "$1")" ]; }
# dims FILE: WxH of the video stream
dims() { ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=s=x:p=0 "$1" | head -n 1 | cut -dx -f1-2; }
# near A B TOL: |A-B| <= TOL (floats)
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }
# jget JSON KEY: a top-level field of a JSON object (python3-free: uses jq if present, else node)
jget() { node -e 'const o=JSON.parse(require("fs").readFileSync(0,"utf8")); const v=o[process.argv[1]]; console.log(typeof v==="object"?JSON.stringify(v):v)' "$2" <<<"$1"; }

# ---- helpers for the command-line tests (tests/e2e/test_cli*.sh) ----

# stopping_ffmpeg PATTERN PIDFILE: puts in $T/bin an ffmpeg that, when its arguments (" $* ")
# match the shell pattern and PIDFILE does not exist yet, writes its pid to PIDFILE and stops
# itself (SIGSTOP) until release_ffmpeg (also run on exit, so no stopped process outlives a
# failed check); later matches run on. Remove PIDFILE to stop the next one. Run the master
# with PATH="$T/bin:$PATH".
stopping_ffmpeg() {
	local real
	real=$(command -v ffmpeg)
	stopped_pidfile=$2
	trap 'release_ffmpeg; rm -rf "$T"' EXIT
	mkdir -p "$T/bin"
	# ln: the pid file appears whole, and only for the first match
	cat >"$T/bin/ffmpeg" <<SH
#!/usr/bin/env bash
case " \$* " in $1)
	echo \$\$ >"$2.\$\$"
	if ln "$2.\$\$" "$2" 2>/dev/null; then rm -f "$2.\$\$"; kill -STOP \$\$; else rm -f "$2.\$\$"; fi ;;
esac
exec "$real" "\$@"
SH
	chmod +x "$T/bin/ffmpeg"
}
# release_ffmpeg: lets the ffmpeg stopping_ffmpeg stopped go on, once it has stopped (it may be
# between writing its pid and stopping), and stops no later one until PIDFILE is removed
release_ffmpeg() {
	local pid
	[ -e "$stopped_pidfile" ] || { : >"$stopped_pidfile"; } 2>/dev/null
	pid=$(cat "$stopped_pidfile" 2>/dev/null)
	[ -n "$pid" ] || return 0
	for _ in $(seq 100); do
		case $(ps -o stat= -p "$pid" 2>/dev/null) in T*|"") break ;; esac
		sleep 0.05
	done
	kill -CONT "$pid" 2>/dev/null
	return 0
}
# private_tmp: the master's working directories go to $VR_TMP, so a test can see what it leaves
private_tmp() { VR_TMP=$T/tmp; mkdir -p "$VR_TMP"; export TMPDIR=$VR_TMP; }
# tmp_clean: nothing left in $VR_TMP (working directories are removed when the master ends)
tmp_clean() { [ -z "$(ls -A "$VR_TMP" 2>/dev/null)" ]; }
# run_master NAME ARGS...: runs build/master (at most 180 s); stdout in $T/NAME.out, stderr in
# $T/NAME.err, exit status in $rc
run_master() {
	local name=$1; shift
	rc=0
	timeout -k 5 180 "$MASTER" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null || rc=$?
}
# start_master NAME ARGS...: the master in the background; its pid in $mpid
start_master() {
	local name=$1; shift
	timeout -k 5 180 "$MASTER" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null &
	mpid=$!
	# timeout's child is the master
	for _ in $(seq 100); do
		mpid_real=$(ps --ppid "$mpid" -o pid= | tr -d ' ' | head -n 1)
		[ -n "$mpid_real" ] && break
		sleep 0.02
	done
}
# finish_master: waits for the background master; exit status in $rc
finish_master() { rc=0; wait "$mpid" || rc=$?; }
# why NAME: a short description of a run for failure messages (exit status, last stderr line)
why() { echo "exit $rc; stderr: $(tail -n 2 "$T/$1.err" 2>/dev/null | tr '\n' '|' | cut -c1-300)"; }
# sigstat FILE KEY min|max|avg [VF]: a signalstats value over every frame of the video, after
# the filter VF if given (KEY is YAVG, UMIN, VMAX, ...)
sigstat() {
	ffmpeg -nostdin -v error -i "$1" -map 0:v:0 -vf "${4:+$4,}signalstats,metadata=mode=print:file=-" -f null - |
		awk -F= -v k="lavfi.signalstats.$2" -v agg="$3" '
		$1 == k { v = $2 + 0; if (n == 0 || v < mn) mn = v; if (n == 0 || v > mx) mx = v; s += v; n++ }
		END { if (n == 0) exit 1; print agg == "min" ? mn : agg == "max" ? mx : s / n }'
}
# sharpness FILE: share of edge pixels (Canny, ffmpeg edgedetect) in the luma, averaged over frames
sharpness() { sigstat "$1" YAVG avg "format=gray,edgedetect"; }
# psnr_y A B [VF_A] [VF_B]: PSNR in dB of the Y planes of two videos (frames paired in order),
# 100 when identical; both go through VF (default none) and then 8-bit yuv420p
psnr_y() {
	ffmpeg -nostdin -v info -i "$1" -i "$2" -lavfi \
		"[0:v:0]${3:+$3,}format=yuv420p,settb=1/30,setpts=N[a];[1:v:0]${4:+$4,}format=yuv420p,settb=1/30,setpts=N[b];[a][b]psnr" \
		-f null - 2>&1 | sed -n 's/.*PSNR y:\([0-9.inf]*\) .*/\1/p' | tail -n 1 | sed 's/^inf$/100/'
}
# min_psnr_y A B: the lowest PSNR in dB of any frame's luma, frames paired in order (100 when
# identical): a frame lost, repeated or out of place pairs two different pictures
min_psnr_y() {
	ffmpeg -nostdin -v error -i "$1" -i "$2" -lavfi \
		"[0:v]format=gray[a];[1:v]format=gray[b];[a][b]psnr=stats_file=-" -f null - 2>/dev/null |
		awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^psnr_y:/) { split($i, a, ":"); v = a[2] == "inf" ? 100 : a[2]; if (n++ == 0 || v < m) m = v } } END { print m + 0 }'
}
# gt A B / lt A B: float comparisons
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 > b + 0) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'; }
# vinfo FILE: "codec,pix_fmt" of the first video stream
vinfo() { ffprobe -v error -select_streams v:0 -show_entries stream=codec_name,pix_fmt -of csv=p=0 "$1"; }
# acodec FILE: codec of the first audio stream (empty when there is none)
acodec() { ffprobe -v error -select_streams a:0 -show_entries stream=codec_name -of csv=p=0 "$1"; }
# brand FILE: the major brand of an MP4/MOV ("isom" for ffmpeg's mp4 muxer, "qt" for mov)
brand() { ffprobe -v error -show_entries format_tags=major_brand -of csv=p=0 "$1" | tr -d ' '; }
# atoms FILE: the top-level ISO BMFF boxes, in file order, one per line
atoms() {
	local f=$1 off=0 len size hdr
	len=$(stat -c %s "$f")
	while [ "$off" -lt "$len" ]; do
		hdr=$(od -An -tx1 -j "$off" -N 16 "$f" | tr -d ' \n')
		[ ${#hdr} -ge 16 ] || return 1
		size=$((16#${hdr:0:8}))
		printf '%b\n' "\\x${hdr:8:2}\\x${hdr:10:2}\\x${hdr:12:2}\\x${hdr:14:2}"
		if [ "$size" -eq 1 ]; then
			size=$((16#${hdr:16:16}))
		elif [ "$size" -eq 0 ]; then
			size=$((len - off))
		fi
		[ "$size" -ge 8 ] || return 1
		off=$((off + size))
	done
}
# faststart FILE: the 'moov' box comes before the 'mdat' box
faststart() {
	atoms "$1" | awk '$0 == "moov" && !m { m = NR } $0 == "mdat" && !d { d = NR } END { exit !(m && d && m < d) }'
}
# is_mp4_h264 FILE: H.264 in 8-bit yuv420p, in an MP4 (not QuickTime) file
is_mp4_h264() { [ "$(vinfo "$1")" = "h264,yuv420p" ] && [ "$(brand "$1")" = isom ]; }
# json_one FILE: FILE holds exactly one JSON object and nothing else
json_one() { [ "$(jq -s 'length == 1 and (.[0] | type) == "object"' "$1" 2>/dev/null)" = true ]; }
# jf FILE FILTER: jq -r FILTER on FILE
jf() { jq -r "$2" "$1"; }
# half_avg FILE left|right|top|bottom: mean luma of that half of the first frame
half_avg() {
	local c
	case $2 in
	left) c="crop=iw/2:ih:0:0" ;; right) c="crop=iw/2:ih:iw/2:0" ;;
	top) c="crop=iw:ih/2:0:0" ;; bottom) c="crop=iw:ih/2:0:ih/2" ;;
	esac
	ffmpeg -nostdin -v error -i "$1" -map 0:v:0 -frames:v 1 -vf "$c,signalstats,metadata=mode=print:file=-" -f null - |
		sed -n 's/^lavfi.signalstats.YAVG=//p' | head -n 1
}
# jt FILE EXPR: the jq expression EXPR is true for the JSON in FILE
jt() { jq -e "$2" "$1" >/dev/null 2>&1; }
