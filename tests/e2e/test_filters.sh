#!/usr/bin/env bash
# Every filter through the CLI on a short generated clip: a valid video with the property that
# defines the filter, measured on the output against the input. Plus chains and --preview.
. "$(dirname "$0")/lib.sh"

# a colourful moving picture with detail: testsrc2
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=320x240:rate=30:duration=2" \
	-c:v libx264 -preset ultrafast -g 30 -pix_fmt yuv420p "$T/in.mp4"
in_y=$(sigstat "$T/in.mp4" YAVG avg)
in_u=$(sigstat "$T/in.mp4" UAVG avg)
in_v=$(sigstat "$T/in.mp4" VAVG avg)
in_ustd=$(sigstat "$T/in.mp4" UAVG avg "extractplanes=u,format=gray,signalstats,metadata=mode=print:key=lavfi.signalstats.YAVG,null")
in_sharp=$(sharpness "$T/in.mp4")
in_ylow=$(sigstat "$T/in.mp4" YLOW avg)
in_yhigh=$(sigstat "$T/in.mp4" YHIGH avg)
in_usat=$(sigstat "$T/in.mp4" SATAVG avg)

vignetted() {
	local c_out c_in m_out m_in
	c_out=$(sigstat "$1" YAVG avg "crop=32:32:0:0"); c_in=$(sigstat "$T/in.mp4" YAVG avg "crop=32:32:0:0")
	m_out=$(sigstat "$1" YAVG avg "crop=32:32:144:104"); m_in=$(sigstat "$T/in.mp4" YAVG avg "crop=32:32:144:104")
	[ "$(awk -v a="$c_out" -v b="$c_in" -v c="$m_out" -v d="$m_in" 'BEGIN{print (a<b*0.85 && c>d*0.9)}')" = 1 ]
}
blurred_grey() {
	[ "$(sigstat "$1" UMAX max)" -le 130 ] && lt "$(sharpness "$1")" "$(awk -v s="$in_sharp" 'BEGIN{print s*0.7}')"
}
render() { # FILTER -> $T/$name.mp4, checks exit and frames
	local f=$1 name=${1%%:*}
	run_master "$name" -q -y --no-baseline -s 1 -f "$f" -o "$T/$name.mp4" "$T/in.mp4"
	if [ "$rc" != 0 ]; then fail "$f renders" "$(why "$name")"; return 1; fi
	[ "$(frames "$T/$name.mp4")" = 60 ] || { fail "$f keeps every frame" "$(frames "$T/$name.mp4")"; return 1; }
	pass "$f renders every frame"
}

names=$("$MASTER" --list-filters | awk '/^[a-z_]+ / { print $1 }')
for f in $names; do
	render "$f" || continue
	o=$T/${f}.mp4
	case $f in
	none) check "none changes nothing (Y PSNR > 35)" gt "$(psnr_y "$o" "$T/in.mp4")" 35 ;;
	grayscale) check "grayscale: chroma flat" [ "$(sigstat "$o" UMIN min)" -ge 126 -a "$(sigstat "$o" UMAX max)" -le 130 -a "$(sigstat "$o" VMIN min)" -ge 126 -a "$(sigstat "$o" VMAX max)" -le 130 ] ;;
	blur) check "blur: fewer edges" lt "$(sharpness "$o")" "$(awk -v s="$in_sharp" 'BEGIN{print s*0.7}')" ;;
	sharpen) check "sharpen: more edges" gt "$(sharpness "$o")" "$in_sharp" ;;
	invert) check "invert: mean luma mirrored" near "$(sigstat "$o" YAVG avg)" "$(awk -v y="$in_y" 'BEGIN{print 251-y}')" 3 ;;
	brightness) check "brightness: brighter" gt "$(sigstat "$o" YAVG avg)" "$(awk -v y="$in_y" 'BEGIN{print y+5}')" ;;
	contrast) check "contrast: wider luma spread" gt "$(awk -v a="$(sigstat "$o" YHIGH avg)" -v b="$(sigstat "$o" YLOW avg)" 'BEGIN{print a-b}')" "$(awk -v a="$in_yhigh" -v b="$in_ylow" 'BEGIN{print a-b+5}')" ;;
	saturation) check "saturation: more saturated" gt "$(sigstat "$o" SATAVG avg)" "$(awk -v s="$in_usat" 'BEGIN{print s*1.1}')" ;;
	sepia) check "sepia: brown (Cb below, Cr above neutral)" bash -c '[ "$(awk -v u="$1" -v v="$2" "BEGIN{print (u<126 && v>130)}")" = 1 ]' _ "$(sigstat "$o" UAVG avg)" "$(sigstat "$o" VAVG avg)" ;;
	warm_tone) check "warm_tone: redder (Cr up, Cb down)" bash -c '[ "$(awk -v u="$1" -v v="$2" -v iu="$3" -v iv="$4" "BEGIN{print (v>iv+1 && u<iu-1)}")" = 1 ]' _ "$(sigstat "$o" UAVG avg)" "$(sigstat "$o" VAVG avg)" "$in_u" "$in_v" ;;
	cool_tone) check "cool_tone: bluer (Cb up, Cr down)" bash -c '[ "$(awk -v u="$1" -v v="$2" -v iu="$3" -v iv="$4" "BEGIN{print (u>iu+1 && v<iv-1)}")" = 1 ]' _ "$(sigstat "$o" UAVG avg)" "$(sigstat "$o" VAVG avg)" "$in_u" "$in_v" ;;
	edge_detection) check "edge_detection: mostly black, chroma flat" bash -c '[ "$(awk -v y="$1" "BEGIN{print (y<60)}")" = 1 ] && [ "$2" -ge 126 -a "$3" -le 130 ]' _ "$(sigstat "$o" YAVG avg)" "$(sigstat "$o" UMIN min)" "$(sigstat "$o" UMAX max)" ;;
	pixelate) check "pixelate: far fewer edges" lt "$(sharpness "$o")" "$(awk -v s="$in_sharp" 'BEGIN{print s*0.6}')" ;;
	vignette) check "vignette: corners darker than the input's, centre kept" vignetted "$o" ;;
	color) check "color with defaults changes nothing much (Y PSNR > 35)" gt "$(psnr_y "$o" "$T/in.mp4")" 35 ;;
	*) fail "$f has a property test" "add one to tests/e2e/test_filters.sh" ;;
	esac
done

render "color:saturation=0" && check "color:saturation=0 is grey" [ "$(sigstat "$T/color.mp4" UMIN min)" -ge 126 -a "$(sigstat "$T/color.mp4" UMAX max)" -le 130 ]
render "blur:sigma=3,grayscale" && check "a chain applies both (blurred and grey)" blurred_grey "$T/blur.mp4"

# bad parameters are refused before any work, naming the field
run_master badparam -f blur:sigma=999 "$T/in.mp4"
check "out-of-range parameter: exit 2 naming it" bash -c '[ "$1" = 2 ] && grep -q sigma "$2"' _ "$rc" "$T/badparam.err"
run_master badname -f blur:radius=3 "$T/in.mp4"
check "unknown parameter: exit 2 naming it" bash -c '[ "$1" = 2 ] && grep -q radius "$2"' _ "$rc" "$T/badname.err"

# --preview: one frame through the filter (how fast is for the benchmarks, not a test)
run_master preview --preview -f grayscale --at 1 -o "$T/p.png" "$T/in.mp4"
check "--preview writes a PNG" bash -c '[ "$1" = 0 ] && [ "$(head -c 4 "$2" | tail -c 3)" = PNG ]' _ "$rc" "$T/p.png"
# the clip changes every frame: the picture is the one at --at 1, not the first
ffmpeg -nostdin -v error -y -ss 1 -i "$T/in.mp4" -frames:v 1 "$T/at1.png"
check "--preview is the frame at --at" gt "$(psnr_y "$T/p.png" "$T/at1.png")" 30
check "--preview of grayscale has flat chroma" [ "$(sigstat "$T/p.png" UMAX max "format=yuv444p")" -le 129 ]
run_master previewj --preview -f sepia -o "$T/p.jpg" "$T/in.mp4"
check "--preview writes a JPEG for .jpg" bash -c '[ "$1" = 0 ] && [ "$(od -An -tx1 -N2 "$2" | tr -d " ")" = ffd8 ]' _ "$rc" "$T/p.jpg"
finish
