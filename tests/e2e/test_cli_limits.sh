#!/usr/bin/env bash
# The command line's limits (--max-pixels, --max-duration), an output that cannot be written
# (the file size limit, ulimit -f, as a full disk would), and ffmpeg/ffprobe too old to run
# our commands (fake ones first in PATH): one clear line, exit 1, nothing left behind.
. "$(dirname "$0")/lib.sh"
private_tmp
OUT=$T/out
mkdir -p "$OUT"

# refused_run NAME PATTERN ARGS...: exit 1, one line on stderr matching PATTERN, no output file,
# no working directory left
refused_run() {
	local name=$1 pat=$2; shift 2
	run_master "$name" -q -w 2 -s 1 -o "$OUT/$name.mp4" "$@"
	if [ "$rc" -ne 1 ]; then
		fail "$name" "want exit 1, $(why "$name")"
	elif [ "$(grep -c . "$T/$name.err")" -ne 1 ]; then
		fail "$name" "want one line on stderr: $(head -c 400 "$T/$name.err" | tr '\n' '|')"
	elif ! grep -Eq -- "$pat" "$T/$name.err"; then
		fail "$name" "stderr does not say '$pat': $(head -c 300 "$T/$name.err")"
	elif [ -n "$(ls -A "$OUT")" ]; then
		fail "$name" "left behind: $(ls -A "$OUT" | tr '\n' ' ')"
	elif ! tmp_clean; then
		fail "$name" "working directory left: $(ls -A "$VR_TMP" | tr '\n' ' ')"
	else
		pass "$name"
	fi
	rm -rf "${OUT:?}"/* "$VR_TMP"/*
}

gen_clip "$T/clip.mp4" 3 || fail setup "cannot generate a clip"      # 320x240, 3 s

# ---- --max-pixels, --max-duration ----
refused_run max-pixels '^master: .*clip.mp4: the video is 320x240 \(76800 pixels\), over the limit of 76799 pixels \(--max-pixels\)$' \
	--max-pixels 76799 "$T/clip.mp4"
refused_run max-pixels-wxh 'over the limit of 64000 pixels \(--max-pixels\)' --max-pixels 320x200 "$T/clip.mp4"
refused_run max-duration '^master: .*clip.mp4: the video lasts 3.00 s, over the limit of 2.5 s \(--max-duration\)$' \
	--max-duration 2.5 "$T/clip.mp4"
refused_run max-duration-preview 'over the limit of 2.5 s \(--max-duration\)' --preview --max-duration 2.5 "$T/clip.mp4"
run_master within -q --no-baseline -s 1 --max-pixels 320x240 --max-duration 3.5 -o "$OUT/ok.mp4" "$T/clip.mp4"
check within-limits-renders [ "$rc" -eq 0 -a "$(frames "$OUT/ok.mp4")" = 90 ]
rm -f "$OUT"/*
run_master badlimit -q --max-pixels lots "$T/clip.mp4"
check bad-limit-is-usage-error [ "$rc" -eq 2 ]
check bad-limit-names-option grep -q -- '--max-pixels' "$T/badlimit.err"

# ---- an output that cannot be written ----
# lossless output is about 4x this input; 1000 KiB per file lets the input, each one-second
# segment and each rendered segment through, not the joined output
gen_clip "$T/grow.mp4" 8 -crf 35
rc=0
(ulimit -f 1000; exec timeout -k 5 180 "$MASTER" -q -w 2 -s 1 --crf 0 -f none -o "$OUT/big.mp4" "$T/grow.mp4") \
	>"$T/efbig.out" 2>"$T/efbig.err" </dev/null || rc=$?
check output-write-fails-exit-1 [ "$rc" -eq 1 ]
check output-write-fails-one-line [ "$(grep -c . "$T/efbig.err")" -eq 1 ]
check output-write-fails-says-why grep -q '^master: cannot join the segments: .*File too large' "$T/efbig.err"
check output-write-fails-no-partial-file [ -z "$(ls -A "$OUT")" ]
check output-write-fails-working-directory-removed tmp_clean
run_master fullpreview -q --preview -o /dev/full "$T/clip.mp4"
check preview-to-full-device-fails [ "$rc" -eq 1 ]
check preview-to-full-device-says-why grep -q 'cannot write /dev/full: No space left on device' "$T/fullpreview.err"

# ---- ffmpeg or ffprobe too old ----
# fake DIR PROG LINE: DIR/PROG, a script that prints LINE for -version and
# is the real program otherwise
mkdir -p "$T/old" "$T/oldprobe" "$T/dev"
fake() {
	local dir=$1 prog=$2 line=$3
	printf '#!/bin/sh\nif [ "$1" = -version ]; then echo "%s"; exit 0; fi\nexec %s "$@"\n' "$line" "$(command -v "$prog")" > "$dir/$prog"
	chmod +x "$dir/$prog"
}
fake "$T/old" ffmpeg "ffmpeg version 4.4.2-0ubuntu0.22.04.1 Copyright (c) 2000-2021 the FFmpeg developers"
fake "$T/old" ffprobe "ffprobe version 4.4.2-0ubuntu0.22.04.1 Copyright (c) 2007-2021 the FFmpeg developers"
fake "$T/oldprobe" ffprobe "ffprobe version 3.4.11-0ubuntu0.1 Copyright (c) 2007-2022 the FFmpeg developers"
fake "$T/dev" ffmpeg "ffmpeg version N-112345-g0123abcdef Copyright (c) 2000-2023 the FFmpeg developers"
fake "$T/dev" ffprobe "ffprobe version git-2023-01-01-0123abc Copyright (c) 2007-2023 the FFmpeg developers"
PATH="$T/old:$PATH" refused_run old-ffmpeg '^master: ffmpeg 4.4 is too old: video-renderer needs 5.1 or newer \(for -fps_mode\)$' "$T/clip.mp4"
PATH="$T/oldprobe:$PATH" refused_run old-ffprobe '^master: ffprobe 3.4 is too old: video-renderer needs 5.1 or newer' "$T/clip.mp4"
# the version check runs beside the probe: an old ffprobe that also fails the probe is still
# named as too old, not as a bad input; and --preview asks too
mkdir -p "$T/oldfail"
printf '#!/bin/sh\nif [ "$1" = -version ]; then echo "ffprobe version 3.4.11"; exit 0; fi\necho "Unrecognized option" >&2\nexit 1\n' > "$T/oldfail/ffprobe"
chmod +x "$T/oldfail/ffprobe"
PATH="$T/oldfail:$PATH" refused_run old-ffprobe-fails-probe '^master: ffprobe 3.4 is too old: video-renderer needs 5.1 or newer' "$T/clip.mp4"
PATH="$T/old:$PATH" refused_run old-ffmpeg-preview '^master: ffmpeg 4.4 is too old' --preview "$T/clip.mp4"
PATH="$T/dev:$PATH" run_master devbuild -q --no-baseline -s 1 -o "$OUT/dev.mp4" "$T/clip.mp4"
check development-builds-are-accepted [ "$rc" -eq 0 -a "$(frames "$OUT/dev.mp4")" = 90 ]
rc=0
PATH="$T/old:$PATH" timeout 20 "$MASTER" serve --port 0 --data-dir "$T/data" >"$T/serve.out" 2>"$T/serve.err" || rc=$?
check serve-refuses-old-ffmpeg-at-start-up [ "$rc" -eq 1 ]
check serve-says-why grep -q 'ffmpeg 4.4 is too old: video-renderer needs 5.1 or newer' "$T/serve.err"
check serve-old-ffmpeg-touches-no-data [ ! -e "$T/data" ]
finish
