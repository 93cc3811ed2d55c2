#!/usr/bin/env bash
# Bit depth and chroma subsampling kept, for every filter of --list-filters: a 10-bit 4:2:0
# BT.2020 clip and a 10-bit 4:2:2 clip go out in their own pix_fmt with every frame, nothing
# said "converted"; the 10-bit kernels do what the 8-bit ones do (the same picture, within
# the encoders' loss); grayscale's chroma is flat at the 10-bit midpoint 512; a parallel
# render is byte-identical to a sequential one; 8-bit 4:4:4 stays so, 12-bit becomes 10-bit.
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
for f in $filters; do
	for src in p10 p422; do
		n=$f-$src
		run_master "$n" --json -w 2 -s 0.5 -f "$f" -o "$T/$n.mkv" "$T/$src.mkv"
		if [ "$rc" -ne 0 ]; then fail "$n-renders" "$(why "$n")"; continue; fi
		check "$n-pix-fmt-kept" [ "$(pixfmt "$T/$n.mkv")" = "$(pixfmt "$T/$src.mkv")" ]
		check "$n-frames-out-equal-in" [ "$(frames "$T/$n.mkv")" = "$in_frames" ]
		check "$n-nothing-converted" jt "$T/$n.out" '.converted == []'
	done
	# the 8-bit path on the same picture: the 10-bit kernels compute the same filter (edge
	# detection's black or white flips where the two encodes differ around the threshold)
	[ "$f" = edge_detection ] && continue
	run_master "$f-p8" -q -w 2 -s 0.5 -f "$f" -o "$T/$f-p8.mkv" "$T/p8.mkv"
	p=$(psnr_y "$T/$f-p10.mkv" "$T/$f-p8.mkv")
	check "$f-10bit-matches-8bit (Y PSNR $p dB)" gt "$p" 30
done
check p10-tags-kept [ "$(ffprobe -v error -select_streams v:0 -show_entries stream=color_primaries,color_space -of csv=p=0 "$T/none-p10.mkv")" = bt2020,bt2020nc ]
check p10-picture-kept gt "$(psnr_y "$T/p10.mkv" "$T/none-p10.mkv")" 40

# grayscale: neutral chroma is 512 in 10 bits, in both layouts
for src in p10 p422; do
	check "grayscale-$src-u-flat-512" [ "$(plane_range "$T/grayscale-$src.mkv" u)" = "512 512 " ]
	check "grayscale-$src-v-flat-512" [ "$(plane_range "$T/grayscale-$src.mkv" v)" = "512 512 " ]
done
check grayscale-p10-luma-kept gt "$(psnr_y "$T/p10.mkv" "$T/grayscale-p10.mkv")" 40

# one worker and three give the same bytes, on 16-bit samples too
for src in p10 p422; do
	run_master "seq-$src" -q -w 1 -s 0.5 -f blur,sepia -o "$T/seq-$src.mkv" "$T/$src.mkv"
	run_master "par-$src" -q -w 3 -s 0.5 -f blur,sepia -o "$T/par-$src.mkv" "$T/$src.mkv"
	check "parallel-equals-sequential-$src" cmp -s "$T/seq-$src.mkv" "$T/par-$src.mkv"
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
check workdirs-removed tmp_clean
finish
