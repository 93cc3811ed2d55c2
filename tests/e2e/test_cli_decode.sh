#!/usr/bin/env bash
# Whatever ffmpeg decodes, we render: every decodable frame (frames out = what ffprobe
# -count_frames decodes), the sound that is there, the picture upright. One clip per kind of
# file that once failed, generated here: AVI with B-frames (H.264, MPEG-4 ASP + MP3), bare
# .h264/.hevc/.m4v streams, a one-frame rotated clip with longer sound, an MKV whose nominal
# rate is far from its real one, a variable-rate MKV (its frames keep their times), a TS cut
# mid-GOP, a TS corrupted in the middle, truncated MKV and MP4 (rendered, and said so).
# --json's frames_in is what was decoded, the same count as ffprobe -count_frames.
. "$(dirname "$0")/lib.sh"
private_tmp

FF="ffmpeg -nostdin -v error -y"
SRC="testsrc2=size=320x240:rate=30"

# rule NAME IN [truncated]: the master renders IN (exit 0) with every frame ffprobe decodes, the
# sound when IN has some, the upright size, and --json's input.truncated as expected
rule() {
	local name=$1 in=$2 want_trunc=${3:-false} out=$T/$1.mp4 a b w h rot
	run_master "$name" --json --no-baseline -w 2 -s 1 --preset ultrafast -f grayscale -o "$out" "$in"
	if [ "$rc" -ne 0 ] || [ ! -s "$out" ]; then
		fail "$name" "$(why "$name")"
		return 1
	fi
	pass "$name"
	a=$(frames "$in") b=$(frames "$out")
	if [ -n "$a" ] && [ "$a" -gt 0 ] && [ "$a" = "$b" ]; then pass "$name-frames"
	else fail "$name-frames" "ffprobe decodes $a frames of the input, the output has $b"; fi
	check "$name-json-frames-out" [ "$(jf "$T/$name.out" .frames_out)" = "$b" ]
	check "$name-json-frames-in-decoded" [ "$(jf "$T/$name.out" .frames_in)" = "$a" ]
	check "$name-json-truncated" [ "$(jf "$T/$name.out" .input.truncated)" = "$want_trunc" ]
	if has_audio "$in"; then
		check "$name-audio-kept" has_audio "$out"
	else
		check "$name-no-audio" eval '! has_audio "$out"'
	fi
	# upright: a quarter turn in the display matrix swaps the sides
	w=$(dims "$in") rot=$(ffprobe -v error -select_streams v:0 -show_entries stream_side_data=rotation -of csv=p=0 "$in" | head -n 1)
	h=${w#*x} w=${w%x*}
	case ${rot#-} in 90|270) set -- "$h" "$w" ;; *) set -- "$w" "$h" ;; esac
	check "$name-upright-size" [ "$(dims "$out")" = "$(($1 / 2 * 2))x$(($2 / 2 * 2))" ]
}

# ---- AVI with B-frames: the packets carry no presentation time ----

$FF -f lavfi -i "$SRC:duration=3" -f lavfi -i "sine=duration=3" -c:v libx264 -preset ultrafast -bf 2 -g 30 \
	-pix_fmt yuv420p -c:a libmp3lame "$T/h264-bf.avi"
rule avi-h264-bframes "$T/h264-bf.avi"
check avi-h264-audio-length near "$(duration "$T/avi-h264-bframes.mp4" a)" 3 0.15
$FF -f lavfi -i "testsrc2=size=320x240:rate=25:duration=3" -f lavfi -i "sine=duration=3" -c:v mpeg4 -vtag XVID \
	-bf 2 -g 25 -c:a libmp3lame "$T/asp.avi"
rule avi-mpeg4-asp-mp3 "$T/asp.avi"
check avi-asp-audio-length near "$(duration "$T/avi-mpeg4-asp-mp3.mp4" a)" 3 0.15

# ---- bare elementary streams: no container at all ----

$FF -f lavfi -i "$SRC:duration=2" -c:v libx264 -preset ultrafast -bf 2 -g 30 -pix_fmt yuv420p -f h264 "$T/raw.h264"
rule raw-h264 "$T/raw.h264"
if ffmpeg -hide_banner -encoders 2>/dev/null | grep -q libx265; then
	$FF -f lavfi -i "$SRC:duration=2" -c:v libx265 -preset ultrafast -x265-params log-level=error -g 30 \
		-pix_fmt yuv420p -f hevc "$T/raw.hevc"
	rule raw-hevc "$T/raw.hevc"
else
	echo "SKIP raw-hevc: this ffmpeg has no libx265 encoder to make the clip"
fi
$FF -f lavfi -i "$SRC:duration=2" -c:v mpeg4 -bf 2 -g 30 -f m4v "$T/raw.m4v"
rule raw-m4v "$T/raw.m4v"

# ---- one frame (a 120 fps phone track), turned a quarter, with 1 s of sound ----

$FF -f lavfi -i "testsrc2=size=320x240:rate=120" -frames:v 1 -c:v libx264 -preset ultrafast -pix_fmt yuv420p "$T/v1.mp4"
$FF -f lavfi -i "sine=duration=1" -c:a aac "$T/a1.m4a"
$FF -i "$T/v1.mp4" -i "$T/a1.m4a" -map 0:v -map 1:a -c copy -metadata:s:v:0 rotate=90 "$T/one.mov"
if rule one-frame-rotated "$T/one.mov"; then
	check one-frame-portrait [ "$(dims "$T/one-frame-rotated.mp4")" = 240x320 ]
	check one-frame-audio-whole near "$(duration "$T/one-frame-rotated.mp4" a)" 1 0.1
fi

# ---- Matroska whose nominal rate (600) is far from its real one (30 frames in 1.24 s) ----

$FF -f lavfi -i "$SRC:duration=1" -f lavfi -i "sine=duration=1.3" -vf "setpts=N*1.24/29/TB" -r 600 -fps_mode vfr \
	-c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac "$T/wrongrate.mkv"
check wrong-rate-is-nominal-600 [ "$(ffprobe -v error -select_streams v:0 -show_entries stream=r_frame_rate -of csv=p=0 "$T/wrongrate.mkv")" = 600/1 ]
if rule wrong-nominal-rate "$T/wrongrate.mkv"; then
	check wrong-rate-stays-variable [ "$(jf "$T/wrong-nominal-rate.out" .input.variable_frame_rate)" = true ]
	check wrong-rate-video-length near "$(duration "$T/wrong-nominal-rate.mp4")" 1.26 0.06
	# --json prints numbers at the precision they carry, not 23.850000000000001
	check wrong-rate-json-fps-as-is grep -q '"fps": 23.85,' "$T/wrong-nominal-rate.out"
	check json-no-binary-noise eval '! grep -Eq "\"(duration|fps|file_size_mb|bitrate_mbps|declared_duration)\": [0-9]+\.[0-9]{3,}" "$T/wrong-nominal-rate.out"'
fi

# ---- variable frame rate: 2 s at 15 fps then 2 s at 30 fps, every frame at its own time ----

$FF -f lavfi -i "testsrc2=size=320x240:rate=15:duration=2" -c:v libx264 -preset ultrafast -g 15 -pix_fmt yuv420p "$T/vfr15.mkv"
$FF -f lavfi -i "testsrc2=size=320x240:rate=30:duration=2" -c:v libx264 -preset ultrafast -g 30 -pix_fmt yuv420p "$T/vfr30.mkv"
printf 'file %s\nfile %s\n' "$T/vfr15.mkv" "$T/vfr30.mkv" >"$T/vfr.txt"
$FF -f concat -safe 0 -i "$T/vfr.txt" -f lavfi -i "sine=duration=4" -map 0:v -map 1:a -c:v copy -c:a aac "$T/vfr.mkv"
if rule variable-rate "$T/vfr.mkv"; then
	check vfr-said-variable [ "$(jf "$T/variable-rate.out" .input.variable_frame_rate)" = true ]
	# within a tick of the input's time base (1 ms), across the cuts between pieces too
	check vfr-frames-keep-their-times eval 'paste -d " " <(pts "$T/vfr.mkv") <(pts "$T/variable-rate.mp4") |
		awk "{ d = \$1 - \$2; if (d < 0) d = -d; if (d > 0.001) bad++ } END { exit !(NR == 90 && bad == 0) }"'
	check vfr-video-length near "$(duration "$T/variable-rate.mp4")" 4 0.1
fi

# ---- a broadcast recording cut mid-GOP at a byte offset ----

$FF -f lavfi -i "$SRC:duration=4" -f lavfi -i "sine=duration=4" -c:v libx264 -preset ultrafast -g 30 -bf 2 \
	-pix_fmt yuv420p -c:a aac "$T/full.ts"
sz=$(stat -c %s "$T/full.ts")
# 188-byte TS packets; 3/8 in is inside the second second's GOP, so the first frames cannot decode
dd if="$T/full.ts" of="$T/midgop.ts" bs=188 skip=$((sz / 188 * 3 / 8)) status=none
check midgop-starts-undecodable [ "$(ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$T/midgop.ts" | head -n 1)" -gt "$(frames "$T/midgop.ts")" ]
if rule ts-cut-mid-gop "$T/midgop.ts"; then
	# the picture starts at the first keyframe: the sound from there on, in step with it
	key=$(ffprobe -v quiet -select_streams v:0 -show_entries packet=pts_time,flags -of csv=p=0 "$T/midgop.ts" | awk -F, '$2 ~ /K/ { print $1; exit }')
	aend=$(ffprobe -v quiet -select_streams a:0 -show_entries packet=pts_time,duration_time -of csv=p=0 "$T/midgop.ts" | awk -F, '{ e = $1 + $2 } END { print e }')
	check ts-mid-gop-sound-from-first-keyframe near "$(duration "$T/ts-cut-mid-gop.mp4" a)" "$(awk -v a="$aend" -v k="$key" 'BEGIN { print a - k }')" 0.05
fi

# ---- a recording corrupted in its middle: the pieces there decode nothing, the rest renders ----

$FF -f lavfi -i "$SRC:duration=6" -f lavfi -i "sine=duration=6" -c:v libx264 -preset ultrafast -g 30 \
	-pix_fmt yuv420p -c:a aac "$T/whole.ts"
sz=$(stat -c %s "$T/whole.ts")
cp "$T/whole.ts" "$T/corrupt.ts"
# a fifth of the packets, from 2/5 in, overwritten with noise (the same every run): the demuxer
# finds sync bytes in it, so the packets after it are read again, but nothing there decodes
seq 1 400000 | gzip -n -c | head -c $((sz / 188 / 5 * 188)) |
	dd of="$T/corrupt.ts" bs=188 seek=$((sz / 188 * 2 / 5)) conv=notrunc status=none
check corrupt-loses-frames [ "$(ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$T/corrupt.ts" | head -n 1)" -gt "$(frames "$T/corrupt.ts")" ]
if rule corrupt-middle "$T/corrupt.ts"; then
	check corrupt-middle-warns grep -q "warn segment [0-9]*: no frame could be decoded" "$T/corrupt-middle.err"
fi

# ---- truncated recordings: the index says 10 s, the data holds the first fifth ----

for ext in mkv mp4; do
	$FF -f lavfi -i "$SRC:duration=10" -f lavfi -i "sine=duration=10" -c:v libx264 -preset ultrafast -g 30 \
		-pix_fmt yuv420p -c:a aac -movflags +faststart "$T/full.$ext"
	head -c $(($(stat -c %s "$T/full.$ext") / 5)) "$T/full.$ext" >"$T/trunc.$ext"
	n=truncated-$ext
	if rule "$n" "$T/trunc.$ext" true; then
		# the real length, not the header's; the sound stops with the picture
		d=$(duration "$T/$n.mp4")
		check "$n-real-duration" near "$(jf "$T/$n.out" .input.duration)" "$d" 0.05
		check "$n-declared-duration" near "$(jf "$T/$n.out" .input.declared_duration)" 10 0.1
		check "$n-shorter-than-declared" lt "$d" 5
		check "$n-audio-as-long-as-video" near "$(duration "$T/$n.mp4" a)" "$d" 0.15
		check "$n-warning-line" grep -q "warn .*truncated.*declares 10" "$T/$n.err"
	fi
done
# without --json the warning is a line of the command line's output too
run_master trunc-cli --no-baseline -w 2 -s 1 --preset ultrafast -o "$T/trunc-cli.mp4" "$T/trunc.mkv"
check truncated-cli-exit-0 [ "$rc" -eq 0 ]
check truncated-cli-warns grep -q "truncated.*rendering what is there" "$T/trunc-cli.err"

# ---- no decodable video: refused, in one line that says why ----

# the MP4's index alone (moov first), cut before the first frame's data
$FF -f lavfi -i "$SRC:duration=2" -c:v libx264 -preset ultrafast -pix_fmt yuv420p -movflags +faststart "$T/idx.mp4"
head -c 3000 "$T/idx.mp4" >"$T/nodata.mp4"
run_master nodata -q --no-baseline -w 2 -o "$T/nodata-out.mp4" "$T/nodata.mp4"
check nodata-refused [ "$rc" -eq 1 ]
check nodata-one-line [ "$(grep -c . "$T/nodata.err")" -eq 1 ]
check nodata-says-why grep -Eqi "no frames?( could be decoded)?|no video|not a video" "$T/nodata.err"
check nodata-no-output [ ! -e "$T/nodata-out.mp4" ]

check working-directories-removed tmp_clean
finish
