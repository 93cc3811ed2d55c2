#!/usr/bin/env bash
# Bit depth and chroma subsampling kept, for every filter of --list-filters: a 10-bit 4:2:0
# BT.2020 clip (each filter) and a 10-bit 4:2:2 clip (all in one chain) go out in their own
# pix_fmt with every frame, nothing said "converted"; the 10-bit kernels do what the 8-bit
# ones do (the same picture, within the encoders' loss); grayscale's chroma is flat at the
# 10-bit midpoint 512; a parallel render is byte-identical to a sequential one; 8-bit 4:4:4
# stays so, 12-bit becomes 10-bit and says so.
. "$(dirname "$0")/lib.sh"
private_tmp

# gen OUT PIX_FMT [ENCODER OPTIONS...]: 1 s 160x120 at 30 fps, a keyframe every 15 frames,
# so that -s 0.5 gives two segments
gen() {
	local out=$1 pf=$2; shift 2
	ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=160x120:rate=30:duration=1" \
		-pix_fmt "$pf" -c:v libx264 -preset ultrafast -g 15 "$@" "$out"
}
pixfmt() { ffprobe -v error -select_streams v:0 -show_entries stream=pix_fmt -of csv=p=0 "$1"; }
# plane_range FILE PLANE: "min max" of one plane's 10-bit samples over every frame
plane_range() {
	ffmpeg -nostdin -v error -i "$1" -map 0:v:0 -vf "extractplanes=$2" -f rawvideo -pix_fmt gray10le - |
		od -An -v -tu2 -w2 | sort -n | sed -n '1p;$p' | tr -d ' ' | tr '\n' ' '
}

gen "$T/p10.mkv" yuv420p10le -color_primaries bt2020 -color_trc bt2020-10 -colorspace bt2020nc
gen "$T/p8.mkv" yuv420p -color_primaries bt2020 -color_trc bt2020-10 -colorspace bt2020nc
gen "$T/p422.mkv" yuv422p10le
check inputs-are-10bit [ "$(pixfmt "$T/p10.mkv") $(pixfmt "$T/p422.mkv")" = "yuv420p10le yuv422p10le" ]
in_frames=$(frames "$T/p10.mkv")

filters=$("$MASTER" --list-filters --json | jq -r '.filters[].name')
check filters-listed [ "$(wc -w <<<"$filters")" -ge 14 ]
# each filter on the 10-bit 4:2:0 clip; the 4:2:2 one goes through all of them in one chain
# (the kernels' layouts are checked one by one in tests/unit/test_filter_kernels.c)
chain=$(tr '\n' , <<<"$filters" | sed 's/,$//')
for f in $filters all; do
	src=p10 spec=$f
	[ "$f" = all ] && src=p422 spec=$chain
	n=$f-$src
	run_master "$n" --json -w 2 -s 0.5 -f "$spec" -o "$T/$n.mkv" "$T/$src.mkv"
	if [ "$rc" -ne 0 ]; then fail "$n-renders" "$(why "$n")"; continue; fi
	check "$n-pix-fmt-kept" [ "$(pixfmt "$T/$n.mkv")" = "$(pixfmt "$T/$src.mkv")" ]
	check "$n-frames-out-equal-in" [ "$(frames "$T/$n.mkv")" = "$in_frames" ]
	check "$n-nothing-converted" jt "$T/$n.out" '.converted == []'
done
check p10-tags-kept [ "$(ffprobe -v error -select_streams v:0 -show_entries stream=color_primaries,color_space -of csv=p=0 "$T/none-p10.mkv")" = bt2020nc,bt2020 ]
check p10-picture-kept gt "$(psnr_y "$T/p10.mkv" "$T/none-p10.mkv")" 40

# the 8-bit path on the same picture: the 10-bit kernels compute the same filters
for spec in blur,sepia,vignette sharpen,pixelate:size=5,color:gamma=1.5:saturation=1.3,warm_tone; do
	n=${spec%%,*}
	run_master "$n-10" -q -w 2 -s 0.5 -f "$spec" -o "$T/$n-10.mkv" "$T/p10.mkv"
	run_master "$n-8" -q -w 2 -s 0.5 -f "$spec" -o "$T/$n-8.mkv" "$T/p8.mkv"
	p=$(psnr_y "$T/$n-10.mkv" "$T/$n-8.mkv")
	check "$spec-10bit-matches-8bit (Y PSNR $p dB)" gt "$p" 30
done

# grayscale: neutral chroma is 512 in 10 bits, in both layouts
run_master grayscale-p422 -q -w 2 -s 0.5 -f grayscale -o "$T/grayscale-p422.mkv" "$T/p422.mkv"
for src in p10 p422; do
	check "grayscale-$src-u-flat-512" [ "$(plane_range "$T/grayscale-$src.mkv" u)" = "512 512 " ]
	check "grayscale-$src-v-flat-512" [ "$(plane_range "$T/grayscale-$src.mkv" v)" = "512 512 " ]
done
check grayscale-p10-luma-kept gt "$(psnr_y "$T/p10.mkv" "$T/grayscale-p10.mkv")" 40

# one worker and two give the same bytes, on 16-bit samples too (--compare renders both)
for src in p10 p422; do
	run_master "cmp-$src" --json --compare -w 2 -s 0.5 -f blur,sepia -o "$T/cmp-$src.mkv" "$T/$src.mkv"
	check "parallel-equals-sequential-$src" jt "$T/cmp-$src.out" '.identical == true'
done

# 8-bit 4:4:4 stays 4:4:4; 12-bit goes out as 10-bit (the kernels stop there), and is said so
gen "$T/p444.mkv" yuv444p
run_master p444 --json -w 2 -s 0.5 -f blur -o "$T/p444.out.mkv" "$T/p444.mkv"
check p444-kept [ "$(pixfmt "$T/p444.out.mkv")" = yuv444p ]
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=160x120:rate=30:duration=1" -pix_fmt yuv420p12le \
	-c:v libx265 -x265-params log-level=error -g 15 "$T/p12.mkv"
run_master p12 --json -w 2 -s 0.5 --codec hevc -f vignette -o "$T/p12.out.mkv" "$T/p12.mkv"
check p12-is-10bit [ "$(pixfmt "$T/p12.out.mkv")" = yuv420p10le ]
check p12-converted-named jt "$T/p12.out" '.converted | any(test("12-bit samples encoded as 10-bit"))'

# A variable rate keeps its frames' times through an IVF stream to the encoder: the stream's
# tag must name the samples (10-bit read as 8-bit I420 would be noise)
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=160x120:rate=15:duration=1" \
	-f lavfi -i "testsrc2=size=160x120:rate=30:duration=1" -filter_complex "[0:v][1:v]concat=n=2:v=1[v]" \
	-map "[v]" -fps_mode vfr -c:v libx265 -x265-params log-level=error -pix_fmt yuv420p10le "$T/vfr10.mkv"
run_master vfr10 --json -w 2 -f none -o "$T/vfr10.out.mp4" "$T/vfr10.mkv"
check vfr10-renders jt "$T/vfr10.out" '.status == "completed"'
check vfr10-kept-10bit [ "$(pixfmt "$T/vfr10.out.mp4")" = yuv420p10le ]
check vfr10-every-frame [ "$(frames "$T/vfr10.out.mp4")" = "$(frames "$T/vfr10.mkv")" ]
check vfr10-picture-kept gt "$(psnr_y "$T/vfr10.mkv" "$T/vfr10.out.mp4")" 35
check workdirs-removed tmp_clean
finish
