#!/usr/bin/env bash
# The output's format by choice: the container follows -o's extension or --format, --codec
# picks the encoder, --bitrate / --crf the rate, --audio the sound; each codec's parallel
# output is byte-identical to the sequential one; what cannot be written is refused before
# any work, in one line. Clips are tiny: AV1 and VP9 encoders are slow.
. "$(dirname "$0")/lib.sh"
private_tmp
# the comparison with the one-worker run (the default, or --compare where one pass is)
CMP=$("$MASTER" --help | grep -q -- '--compare' && echo --compare)

ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=160x120:rate=25:duration=1" \
	-f lavfi -i "sine=frequency=440:sample_rate=48000:duration=1" \
	-c:v libx264 -preset ultrafast -g 10 -pix_fmt yuv420p -c:a aac "$T/in.mp4"
ffmpeg -nostdin -v error -y -i "$T/in.mp4" -c:v copy -c:a pcm_s16le "$T/pcm.mov"
# fmt FILE: mp4, mov (by the major brand), webm or mkv (by the EBML DocType)
fmt() {
	case $(ffprobe -v error -show_entries format=format_name -of default=nw=1:nk=1 "$1") in
	mov,*) [ "$(brand "$1")" = qt ] && echo mov || echo mp4 ;;
	matroska,*) head -c 64 "$1" | grep -aq webm && echo webm || echo mkv ;;
	esac
}
vcodec() { ffprobe -v error -select_streams v:0 -show_entries stream=codec_name -of csv=p=0 "$1"; }

# name, output, options, container (ffprobe's format_name), video codec, audio codec
while IFS='|' read -r name out opts want_fmt want_v want_a; do
	# shellcheck disable=SC2086
	run_master "$name" --json $CMP -w 2 -s 0.5 $opts -o "$T/$out" "$T/in.mp4"
	if [ "$rc" -ne 0 ]; then fail "$name" "$(why "$name")"; continue; fi
	check "$name-container" [ "$(fmt "$T/$out")" = "$want_fmt" ]
	check "$name-video-$want_v" [ "$(vcodec "$T/$out")" = "$want_v" ]
	check "$name-audio-$want_a" [ "$(acodec "$T/$out")" = "$want_a" ]
	check "$name-frames" [ "$(frames "$T/$out")" = 25 ]
	check "$name-identical" jt "$T/$name.out" '.identical == true'
	check "$name-json-format" jt "$T/$name.out" ".format.codec == \"$want_v\""
done <<'CASES'
mp4|o.mp4||mp4|h264|aac
mov-hevc|o.mov|--codec hevc|mov|hevc|aac
mkv-av1|o.mkv|--codec av1 --crf 50|mkv|av1|aac
webm|o.webm||webm|vp9|opus
mp4-vp9-opus|o2.mp4|--codec vp9 --audio opus|mp4|vp9|opus
format-mkv|o.bin|--format mkv|mkv|h264|aac
CASES
# an MP4 made from a QuickTime file is no QuickTime file (the input's brands are not copied)
run_master mov-to-mp4 -q --no-baseline -w 2 -o "$T/from-mov.mp4" "$T/pcm.mov"
check mp4-from-mov-is-isom [ "$(brand "$T/from-mov.mp4")" = isom ]
check hevc-tagged-hvc1 [ "$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_tag_string -of csv=p=0 "$T/o.mov")" = hvc1 ]
check audio-copied-by-default cmp <(ffmpeg -nostdin -v error -i "$T/in.mp4" -map 0:a -c copy -f data -) \
	<(ffmpeg -nostdin -v error -i "$T/o.mp4" -map 0:a -c copy -f data -)

# --bitrate instead of crf: a lower rate makes a smaller file
run_master br-low -q --no-baseline -w 2 --bitrate 40k -o "$T/low.mp4" "$T/in.mp4"
run_master br-high -q --no-baseline -w 2 --bitrate 2M -o "$T/high.mp4" "$T/in.mp4"
check bitrate-lower-is-smaller [ "$(stat -c %s "$T/low.mp4")" -lt "$(stat -c %s "$T/high.mp4")" ]

# --audio: PCM goes into MOV as it is, into MP4 as AAC (said in "converted"), and a copy
# MP4 cannot hold is refused after the probe, before any work
run_master pcm-mov -q --no-baseline -w 2 -o "$T/pcm.out.mov" "$T/pcm.mov"
check pcm-copied-into-mov [ "$(acodec "$T/pcm.out.mov")" = pcm_s16le ]
run_master pcm-mp4 --json --no-baseline -w 2 -o "$T/pcm.out.mp4" "$T/pcm.mov"
check pcm-encoded-for-mp4 [ "$(acodec "$T/pcm.out.mp4")" = aac ]
check pcm-conversion-named jt "$T/pcm-mp4.out" '.converted | any(test("audio stream 0: pcm_s16le -> aac"))'
run_master pcm-copy -w 2 --audio copy -o "$T/pcm.copy.mp4" "$T/pcm.mov"
check pcm-copy-refused [ "$rc" -eq 1 ]
check pcm-copy-reason grep -q 'mp4 cannot hold the input.s pcm_s16le audio' "$T/pcm-copy.err"
check pcm-copy-no-output [ ! -e "$T/pcm.copy.mp4" ]
check pcm-copy-before-work bash -c "! grep -q 'cut into' '$T/pcm-copy.err'"

# a default name follows the container
cp "$T/in.mp4" "$T/named.mp4"
run_master default-name -q --no-baseline -w 2 --format mkv "$T/named.mp4"
check default-name-mkv [ "$(ls "$T"/named.*.mkv 2>/dev/null | wc -l)" = 1 ]

# refused before any work, in one line, exit 2, nothing written
while IFS='|' read -r name want args; do
	args=${args//OUT/$T}
	# shellcheck disable=SC2086
	run_master "$name" $args "$T/in.mp4"
	check "$name-exit-2" [ "$rc" -eq 2 ]
	check "$name-says-why" grep -q -e "$want" "$T/$name.err"
	check "$name-one-line" [ "$(grep -c '^master:' "$T/$name.err")" = 1 ]
done <<'CASES'
webm-h264|webm cannot hold h264 video|--codec h264 -o OUT/x.webm
mov-av1|mov cannot hold av1 video|--codec av1 -o OUT/x.mov
avi|cannot write .avi files|-o OUT/x.avi
ext-vs-format|named .mp4 but the format asked is mkv|--format mkv -o OUT/x.mp4
codec-unknown|unknown codec 'mpeg2'|--codec mpeg2 -o OUT/x.mkv
webm-aac|webm cannot hold aac audio|--audio aac -o OUT/x.webm
crf-h264|--crf 60 is out of range for h264|--crf 60 -o OUT/x.mp4
bitrate-bad|--bitrate takes a rate|--bitrate fast -o OUT/x.mp4
CASES
check refused-nothing-written [ -z "$(ls "$T"/x.* 2>/dev/null)" ]
check workdirs-removed tmp_clean
finish
