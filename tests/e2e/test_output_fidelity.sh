#!/usr/bin/env bash
# What the output keeps of the input, on generated clips: colour tags (BT.709 limited, full
# range, BT.601), the full range's levels, global and per-stream metadata (creation_time,
# title, languages), subtitles, a rotated picture; what it cannot keep is named in --json's
# "dropped" and in the report.
. "$(dirname "$0")/lib.sh"
private_tmp

# tags FILE: range,primaries,transfer,space of the video stream
tags() { ffprobe -v error -select_streams v:0 -show_entries stream=color_range,color_primaries,color_transfer,color_space -of csv=p=0 "$1"; }
# gen_tagged OUT RANGE PRIMARIES TRC SPACE: 1 s 320x240 H.264 tagged so (full range: levels 0-255)
gen_tagged() {
	local vf=format=yuv420p
	[ "$2" = pc ] && vf="scale=out_range=pc:out_color_matrix=$5,format=yuv420p"
	ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=320x240:rate=30:duration=1" -vf "$vf" \
		-c:v libx264 -preset ultrafast -g 15 -color_range "$2" -color_primaries "$3" \
		-color_trc "$4" -colorspace "$5" "$1"
}

# ---- colour tags carried from input to output, in every container ----
gen_tagged "$T/bt709.mp4" tv bt709 bt709 bt709
gen_tagged "$T/full.mp4" pc bt709 bt709 bt709
gen_tagged "$T/bt601.mp4" tv smpte170m smpte170m smpte170m
for ce in bt709:mkv full:mp4 bt601:mov; do
	c=${ce%:*} ext=${ce#*:}
	want=$(tags "$T/$c.mp4")
	run_master "$c-$ext" -q --no-baseline -w 2 -s 0.5 -o "$T/$c.out.$ext" "$T/$c.mp4"
	got=$(tags "$T/$c.out.$ext")
	if [ "$rc" -eq 0 ] && [ "$got" = "$want" ]; then pass "colour-tags-$c-$ext"
	else fail "colour-tags-$c-$ext" "want $want, got '$got'; $(why "$c-$ext")"; fi
done
check colour-full-is-pc [ "$(tags "$T/full.out.mp4" | cut -d, -f1)" = pc ]
# A full-range picture stays full range: its levels are not squeezed into 16-235 (grayscale
# keeps the luma, so the Y planes match closely; squeezed levels would fall under 30 dB).
p=$(psnr_y "$T/full.mp4" "$T/full.out.mp4")
check "full-range-levels-kept (Y PSNR $p dB)" gt "$p" 38
ymax_in=$(sigstat "$T/full.mp4" YMAX max) ymax_out=$(sigstat "$T/full.out.mp4" YMAX max)
check "full-range-white-stays ($ymax_in -> $ymax_out)" near "$ymax_in" "$ymax_out" 5
check full-range-white-over-235 gt "$ymax_out" 240
# The RGB filters convert with the input's matrix: sepia on a BT.601 clip differs from the
# same pixels tagged BT.709 (same Y'CbCr in, different RGB).
run_master sepia601 -q --no-baseline -w 1 -f sepia -o "$T/sepia601.mp4" "$T/bt601.mp4"
ffmpeg -nostdin -v error -y -i "$T/bt601.mp4" -c copy -bsf:v h264_metadata=colour_primaries=1:transfer_characteristics=1:matrix_coefficients=1 "$T/bt601as709.mp4"
run_master sepia709 -q --no-baseline -w 1 -f sepia -o "$T/sepia709.mp4" "$T/bt601as709.mp4"
p=$(psnr_y "$T/sepia601.mp4" "$T/sepia709.mp4")
check "rgb-maths-follow-the-matrix (Y PSNR $p dB)" lt "$p" 45

# ---- metadata, languages, subtitles and rotation ----
printf '1\n00:00:00,000 --> 00:00:00,900\nHello\n\n2\n00:00:01,000 --> 00:00:01,900\nWorld\n' >"$T/s.srt"
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=320x240:rate=30:duration=2" \
	-f lavfi -i "sine=frequency=440:sample_rate=48000:duration=2" -i "$T/s.srt" \
	-map 0 -map 1 -map 2 -c:v libx264 -preset ultrafast -g 15 -pix_fmt yuv420p -c:a aac -c:s mov_text \
	-metadata:s:v:0 language=eng -metadata:s:a:0 language=fra -metadata:s:s:0 language=eng "$T/plain.mov"
# ffmpeg 5.1 writes a display matrix from the "rotate" tag when it only copies
ffmpeg -nostdin -v error -y -i "$T/plain.mov" -map 0 -c copy -metadata:s:v:0 rotate=90 \
	-metadata creation_time=2024-05-06T07:08:09Z -metadata title="Test clip" "$T/meta.mov"
check rotated-input [ -n "$(ffprobe -v error -select_streams v:0 -show_entries stream_side_data=rotation -of csv=p=0 "$T/meta.mov")" ]
for ext in mp4 mkv; do
	out=$T/meta.out.$ext
	run_master "meta-$ext" --json --no-baseline -w 2 -s 0.5 -o "$out" "$T/meta.mov"
	check "meta-$ext-runs" [ "$rc" -eq 0 ]
	check "meta-$ext-creation_time" [ "$(ffprobe -v error -show_entries format_tags=creation_time -of csv=p=0 "$out")" = 2024-05-06T07:08:09.000000Z ]
	check "meta-$ext-title" [ "$(ffprobe -v error -show_entries format_tags=title -of csv=p=0 "$out")" = "Test clip" ]
	langs=$(ffprobe -v error -show_entries stream=codec_type:stream_tags=language -of csv=p=0 "$out" | tr '\n' ' ')
	check "meta-$ext-languages ($langs)" [ "$langs" = "video,eng audio,fra subtitle,eng " ]
	# the words of the subtitles come back, in a form the container holds
	subs=$(ffmpeg -nostdin -v error -i "$out" -map 0:s:0 -f srt - | grep -c 'Hello\|World')
	check "meta-$ext-subtitles" [ "$subs" = 2 ]
	# turned upright once, and no display matrix left to turn it again
	check "meta-$ext-upright" [ "$(dims "$out")" = 240x320 ]
	check "meta-$ext-no-rotation-left" [ -z "$(ffprobe -v error -select_streams v:0 -show_entries stream_side_data=rotation -of csv=p=0 "$out")" ]
	check "meta-$ext-nothing-dropped" jt "$T/meta-$ext.out" '.dropped == []'
done
check meta-mkv-subrip [ "$(ffprobe -v error -select_streams s:0 -show_entries stream=codec_name -of csv=p=0 "$T/meta.out.mkv")" = subrip ]

# ---- what a container cannot hold is named, in --json and in the report ----
head -c 2000 /dev/urandom >"$T/font.ttf"
ffmpeg -nostdin -v error -y -i "$T/plain.mov" -map 0 -c copy -c:s srt -attach "$T/font.ttf" \
	-metadata:s:t mimetype=application/x-truetype-font "$T/attached.mkv"
run_master attach-mp4 --json --no-baseline -w 2 -s 0.5 -o "$T/attached.mp4" "$T/attached.mkv"
check attach-mp4-runs [ "$rc" -eq 0 ]
check attach-mp4-dropped-named jt "$T/attach-mp4.out" '.dropped | length == 1 and (.[0] | test("attachment stream 3 .*mp4 cannot carry it"))'
check attach-mp4-converted-named jt "$T/attach-mp4.out" '.converted | any(test("subtitle stream 2: subrip -> mov_text"))'
run_master attach-report --no-baseline -w 2 -s 0.5 -o "$T/attached2.mp4" "$T/attached.mkv"
check attach-report-line grep -q '^dropped .*attachment stream 3' "$T/attach-report.out"
run_master attach-mkv --json --no-baseline -w 2 -s 0.5 -o "$T/attached.out.mkv" "$T/attached.mkv"
check attach-mkv-kept jt "$T/attach-mkv.out" '.dropped == []'
check attach-mkv-attachment [ "$(ffprobe -v error -show_entries stream=codec_type -of csv=p=0 "$T/attached.out.mkv" | grep -c attachment)" = 1 ]

# ---- HDR is refused with the reason, before any work, never flattened ----
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=320x240:rate=30:duration=1" -c:v libx265 \
	-x265-params log-level=error -pix_fmt yuv420p10le -color_primaries bt2020 -color_trc smpte2084 \
	-colorspace bt2020nc "$T/pq.mp4"
run_master hdr -w 2 -o "$T/pq.out.mp4" "$T/pq.mp4"
check hdr-refused [ "$rc" -eq 1 ]
check hdr-reason grep -q 'HDR video (PQ transfer, smpte2084)' "$T/hdr.err"
check hdr-no-output [ ! -e "$T/pq.out.mp4" ]
check hdr-no-work bash -c "! grep -q 'cut into' '$T/hdr.err'"
check workdirs-removed tmp_clean
finish
