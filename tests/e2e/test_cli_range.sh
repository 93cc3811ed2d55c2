#!/usr/bin/env bash
# --start / --end: exactly the frames of the range (compared with the input's own frames there,
# and not those one frame off), the sound trimmed to the same span, both time spellings, the
# range in the default name and in --json, and each mistake refused in one line.
. "$(dirname "$0")/lib.sh"
private_tmp

gen_clip "$T/clip.mp4" 3 || { fail setup "cannot generate the test clip"; finish; }

# ranged NAME START END ARGS...: the range of clip.mp4 rendered into $T/NAME.mp4; checks 30
# frames (1 s at 30 fps), 1 s of sound, and the picture of the input's frames from START
ranged() {
	local name=$1 from=$2; shift 2
	run_master "$name" -q -w 2 -s 1 -o "$T/$name.mp4" "$@" "$T/clip.mp4"
	if [ "$rc" -ne 0 ]; then
		fail "$name-runs" "$(why "$name")"
		return
	fi
	check "$name-frames" [ "$(frames "$T/$name.mp4")" = 30 ]
	check "$name-audio-trimmed" near "$(duration "$T/$name.mp4" a)" 1.0 0.03
	local exact late early
	exact=$(psnr_y "$T/clip.mp4" "$T/$name.mp4" "trim=start=$from:duration=1,setpts=PTS-STARTPTS")
	late=$(psnr_y "$T/clip.mp4" "$T/$name.mp4" "trim=start=$(awk -v s="$from" 'BEGIN { print s + 1/30 }'):duration=1,setpts=PTS-STARTPTS")
	early=0  # nothing before the first frame
	gt "$from" 0 && early=$(psnr_y "$T/clip.mp4" "$T/$name.mp4" "trim=start=$(awk -v s="$from" 'BEGIN { print s - 1/30 }'):duration=1,setpts=PTS-STARTPTS")
	if gt "$exact" 35 && lt "$late" "$(awk -v e="$exact" 'BEGIN { print e - 6 }')" &&
		lt "$early" "$(awk -v e="$exact" 'BEGIN { print e - 6 }')"; then
		pass "$name-frame-exact"
	else
		fail "$name-frame-exact" "Y PSNR against the input from $from s: $exact dB, a frame later $late, earlier $early"
	fi
}

ranged seconds 1 --start 1 --end 2
ranged clock 1.5 --start 0:00:01.500 --end 00:02.5
ranged end-only 0 --end 1
ranged start-only 2 --start 2

# with --json: the range is in the report; the default name carries it
mkdir -p "$T/n" && cp "$T/clip.mp4" "$T/n/in.mp4"
run_master named --json --start 1 --end 2.5 -s 1 "$T/n/in.mp4"
check range-default-name [ "$rc" -eq 0 -a "$(frames "$T/n/in.grayscale.1-2.5s.mp4")" = 45 ]
check range-in-json jt "$T/named.out" '.range == {"start": 1, "end": 2.5} and .frames_out == 45'

# ---- mistakes: one line each, no output ----

# refused NAME CODE PATTERN ARGS...
refused() {
	local name=$1 code=$2 pat=$3; shift 3
	run_master "$name" -o "$T/$name.mp4" "$@"
	if [ "$rc" -ne "$code" ]; then
		fail "$name" "want exit $code, $(why "$name")"
	elif ! grep -Eq -- "$pat" "$T/$name.err"; then
		fail "$name" "stderr does not say '$pat': $(head -c 300 "$T/$name.err")"
	elif [ -e "$T/$name.mp4" ]; then
		fail "$name" "an output was written"
	else
		pass "$name"
	fi
}
refused ffmpeg-ss-named 2 '^master: -ss is not an option here: .*--start' -ss 1 "$T/clip.mp4"
refused end-before-start 2 '--end \(1 s\) must come after --start \(2 s\)' --start 2 --end 1 "$T/clip.mp4"
refused bad-time 2 "--start takes seconds or \[hh:\]mm:ss\[.ms\], not '1:75'" --start 1:75 "$T/clip.mp4"
refused bad-time-negative 2 "--end takes seconds" --end -3 "$T/clip.mp4"
refused past-the-end 1 'clip.mp4 has no frame from 10 s on' --start 10 "$T/clip.mp4"
check past-the-end-one-line [ "$(grep -vc ' info ' "$T/past-the-end.err")" -eq 1 ]
refused preview-range 2 'a preview.s time is --at' --preview --start 1 "$T/clip.mp4"

check working-directories-removed tmp_clean
finish
