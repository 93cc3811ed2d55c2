#!/usr/bin/env bash
# What comes out of the command line, measured on generated clips: the pictures (grayscale,
# blur), the sound, the frame count and duration, rotation, odd sizes, pixel formats, VFR.
. "$(dirname "$0")/lib.sh"
private_tmp

# render NAME INPUT ARGS...: runs the master without the baseline into $T/NAME.mp4; fails NAME
# (and returns 1) when it does not exit 0 with an output file
render() {
	local name=$1 in=$2; shift 2
	run_master "$name" -q --no-baseline -w 2 "$@" -o "$T/$name.mp4" "$in"
	if [ "$rc" -ne 0 ] || [ ! -s "$T/$name.mp4" ]; then
		fail "$name" "$(why "$name")"
		return 1
	fi
	pass "$name"
}
# same_frames NAME IN OUT: frames out == frames in
same_frames() {
	local a b
	a=$(frames "$2") b=$(frames "$3")
	if [ -n "$a" ] && [ "$a" = "$b" ]; then pass "$1"; else fail "$1" "frames in $a, out $b"; fi
}
# same_duration NAME IN OUT: video durations within one frame of the output's rate
same_duration() {
	local a b fps
	a=$(duration "$2") b=$(duration "$3")
	fps=$(ffprobe -v error -select_streams v:0 -show_entries stream=avg_frame_rate -of csv=p=0 "$3" | awk -F/ '{ print $2 ? $1 / $2 : 0 }')
	[ "$a" = N/A ] && a=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$2")
	if gt "$fps" 0 && near "$a" "$b" "$(awk -v f="$fps" 'BEGIN { print 1 / f + 0.001 }')"; then
		pass "$1"
	else
		fail "$1" "video duration in $a s, out $b s (output at $fps fps)"
	fi
}
# out_is NAME FILE WxH [PIX_FMT]: H.264 yuv420p (or PIX_FMT) MP4 of that size
out_is() {
	local v d
	v=$(vinfo "$2") d=$(dims "$2")
	if [ "$v" = "h264,${4:-yuv420p}" ] && [ "$d" = "$3" ]; then pass "$1"; else fail "$1" "got $v $d, want h264,${4:-yuv420p} $3"; fi
}

# ---- grayscale on a clip with audio ----

gen_clip "$T/av.mp4" 4 || fail setup "cannot generate a clip"
if render gray "$T/av.mp4" -s 1 --filter grayscale; then
	O=$T/gray.mp4
	same_frames gray-frames "$T/av.mp4" "$O"
	same_duration gray-duration "$T/av.mp4" "$O"
	check gray-h264-yuv420p-mp4 is_mp4_h264 "$O"
	check gray-audio-present has_audio "$O"
	check gray-audio-as-long-as-video near "$(duration "$O" a)" "$(duration "$O" v)" 0.1
	check gray-audio-as-long-as-input near "$(duration "$O" a)" "$(duration "$T/av.mp4" a)" 0.1
	# every frame: the lowest U and V are >= 126, the highest <= 130
	for k in UMIN:min VMIN:min UMAX:max VMAX:max; do
		v=$(sigstat "$O" ${k%:*} ${k#*:})
		if near "${v:-0}" 128 2; then pass "gray-chroma-flat-${k%:*}"
		else fail "gray-chroma-flat-${k%:*}" "${k#*:} ${k%:*} over the frames is $v, want 128+-2"; fi
	done
	# the input really has colour, so flat chroma is the filter's doing
	check gray-input-is-colourful [ "$(sigstat "$T/av.mp4" UMAX max)" -gt 160 ]
	p=$(psnr_y "$T/av.mp4" "$O")
	if gt "$p" 35; then pass gray-luma-kept; else fail gray-luma-kept "Y PSNR vs input $p dB, want > 35"; fi
fi

# ---- blur: sharpness goes down, more with a larger sigma ----

if render blur "$T/av.mp4" -s 1 --filter blur && render blur5 "$T/av.mp4" -s 1 --filter blur:sigma=5; then
	s0=$(sharpness "$T/av.mp4") s1=$(sharpness "$T/blur.mp4") s5=$(sharpness "$T/blur5.mp4")
	if lt "$s1" "$(awk -v a="$s0" 'BEGIN { print a * 0.7 }')"; then pass blur-less-sharp
	else fail blur-less-sharp "edge density in $s0, after blur $s1 (want < 70%)"; fi
	if lt "$s5" "$(awk -v a="$s1" 'BEGIN { print a * 0.8 }')"; then pass blur-sigma5-blurs-more
	else fail blur-sigma5-blurs-more "edge density sigma 2.6: $s1, sigma 5: $s5 (want < 80%)"; fi
	same_frames blur-frames "$T/av.mp4" "$T/blur.mp4"
	# blur keeps the colours: chroma is not flattened
	check blur-keeps-colour [ "$(sigstat "$T/blur.mp4" UMAX max)" -gt 150 ]
	check blur-audio-present has_audio "$T/blur.mp4"
fi

# ---- no audio in, no audio out ----

ffmpeg -nostdin -v error -y -i "$T/av.mp4" -an -c copy "$T/silent.mp4"
if render noaudio "$T/silent.mp4" -s 1; then
	check noaudio-no-audio-stream eval '! has_audio "$T/noaudio.mp4"'
	same_frames noaudio-frames "$T/silent.mp4" "$T/noaudio.mp4"
fi

# ---- rotation metadata: the picture comes out turned upright ----

# 320x240, top half white, bottom half black; the display matrix is added by a stream copy
ffmpeg -nostdin -v error -y -f lavfi \
	-i "color=white:s=320x240:r=30:d=2,drawbox=x=0:y=120:w=320:h=120:color=black:t=fill" \
	-c:v libx264 -preset ultrafast -g 15 -pix_fmt yuv420p "$T/updown.mp4"
for deg in 90 270 180; do
	ffmpeg -nostdin -v error -y -i "$T/updown.mp4" -c copy -metadata:s:v:0 rotate=$deg "$T/rot$deg.mov"
	# ffmpeg itself turns the picture when it decodes (autorotate): that is what a player shows
	ffmpeg -nostdin -v error -y -i "$T/rot$deg.mov" -frames:v 1 "$T/rot$deg.ref.png"
	want=$(dims "$T/rot$deg.ref.png")
	if render "rot$deg" "$T/rot$deg.mov" -s 1; then
		out_is "rot$deg-size" "$T/rot$deg.mp4" "$want"
		bad=
		for h in left right top bottom; do
			a=$(half_avg "$T/rot$deg.ref.png" $h) b=$(half_avg "$T/rot$deg.mp4" $h)
			near "$a" "$b" 12 || bad="$bad $h: want $a got $b;"
		done
		if [ -z "$bad" ]; then pass "rot$deg-upright"; else fail "rot$deg-upright" "mean luma of the halves:$bad"; fi
		same_frames "rot$deg-frames" "$T/rot$deg.mov" "$T/rot$deg.mp4"
	fi
done
# independent of ffmpeg's reading: rotation 90 (counter-clockwise, as ffprobe reports it) puts
# the white top on the left
if [ -s "$T/rot90.mp4" ]; then
	check rot90-white-on-the-left eval 'gt "$(half_avg "$T/rot90.mp4" left)" 200 && lt "$(half_avg "$T/rot90.mp4" right)" 40'
	check rot90-metadata-cleared [ -z "$(ffprobe -v error -select_streams v:0 -show_entries stream_side_data=rotation -of csv=p=0 "$T/rot90.mp4")" ]
fi

# ---- odd sizes: one row and one column cropped, every frame kept ----

ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=s=320x240:r=30:d=2,scale=161:121,format=yuv420p" \
	-f lavfi -i "sine=d=2" -c:v ffv1 -c:a aac "$T/odd420-in.mkv"
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=s=320x240:r=30:d=2,scale=161:121,format=yuv444p" \
	-c:v libx264 -preset ultrafast -g 15 "$T/odd444-in.mp4"
for f in odd420-in.mkv odd444-in.mp4; do
	n=${f%-in.*}
	check "$n-input-is-161x121" [ "$(dims "$T/$f")" = 161x121 ]
	if render "$n" "$T/$f" -s 1; then
		# the chroma subsampling is kept (a 4:4:4 odd size is cropped all the same)
		out_is "$n-160x120" "$T/$n.mp4" 160x120 "$([ "$n" = odd444 ] && echo yuv444p || echo yuv420p)"
		same_frames "$n-frames" "$T/$f" "$T/$n.mp4"
		p=$(psnr_y "$T/$f" "$T/$n.mp4" "crop=160:120:0:0")
		if gt "$p" 30; then pass "$n-picture-kept"; else fail "$n-picture-kept" "Y PSNR $p dB"; fi
	fi
done

# ---- other pixel formats: 10-bit, 4:2:2, 4:4:4 kept (gray goes out as 4:2:0), same picture ----

ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=s=320x240:r=30:d=2" -c:v libx264 -preset ultrafast \
	-g 15 -pix_fmt yuv422p10le "$T/p422p10.mkv"
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=s=320x240:r=30:d=2" -c:v libx264 -preset ultrafast \
	-g 15 -pix_fmt yuv444p "$T/p444p.mkv"
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=s=320x240:r=30:d=2" -c:v ffv1 -pix_fmt yuv444p10le "$T/p444p10.mkv"
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=s=320x240:r=30:d=2" -c:v ffv1 -pix_fmt gray "$T/pgray.mkv"
for f in p422p10.mkv p444p.mkv p444p10.mkv pgray.mkv; do
	n=${f%.*}
	if render "$n" "$T/$f" -s 1; then
		# gray is full range, and stays so (ffprobe calls full-range 4:2:0 H.264 yuvj420p)
		out_is "$n-pix-fmt" "$T/$n.mp4" 320x240 "$(case $n in pgray) echo yuvj420p ;;
			p422p10) echo yuv422p10le ;; p444p) echo yuv444p ;; p444p10) echo yuv444p10le ;; esac)"
		same_frames "$n-frames" "$T/$f" "$T/$n.mp4"
		p=$(psnr_y "$T/$f" "$T/$n.mp4")
		if gt "$p" 35; then pass "$n-luma-kept"; else fail "$n-luma-kept" "Y PSNR $p dB"; fi
	fi
done

# ---- variable frame rate: 2 s at 30 fps then 2 s at 15 fps; the duration is kept ----

ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=s=320x240:r=30:d=2" -f lavfi -i "testsrc2=s=320x240:r=15:d=2" \
	-f lavfi -i "sine=frequency=440:sample_rate=48000:d=4" \
	-filter_complex "[0:v][1:v]concat=n=2:v=1:a=0[v]" -map "[v]" -map 2:a -fps_mode passthrough \
	-c:v libx264 -preset ultrafast -g 15 -c:a aac "$T/vfr.mkv"
if render vfr "$T/vfr.mkv" -s 1; then
	same_duration vfr-duration "$T/vfr.mkv" "$T/vfr.mp4"
	check vfr-audio-as-long-as-video near "$(duration "$T/vfr.mp4" a)" "$(duration "$T/vfr.mp4" v)" 0.1
fi

# white for 2 s at 15 fps, then black for 2 s at 30 fps: the output turns black at 2 s, give or
# take one of its frames (treated as constant 30 fps it would turn at 1 s; segments resampled
# each on its own drift later by a frame per cut)
ffmpeg -nostdin -v error -y -f lavfi -i "color=white:s=320x240:r=15:d=2" -f lavfi -i "color=black:s=320x240:r=30:d=2" \
	-filter_complex "[0:v][1:v]concat=n=2:v=1:a=0[v]" -map "[v]" -fps_mode passthrough \
	-c:v libx264 -preset ultrafast -g 10 "$T/vfr3.mkv"
if render vfr3 "$T/vfr3.mkv" -s 0.5; then
	same_duration vfr3-duration "$T/vfr3.mkv" "$T/vfr3.mp4"
	fps=$(ffprobe -v error -select_streams v:0 -show_entries stream=avg_frame_rate -of csv=p=0 "$T/vfr3.mp4" | awk -F/ '{ print $2 ? $1 / $2 : 0 }')
	at=$(ffmpeg -nostdin -v error -i "$T/vfr3.mp4" -vf "signalstats,metadata=mode=print:file=-" -f null - |
		awk -F'[ =:]+' '/^frame/ { for (i = 1; i < NF; i++) if ($i == "pts_time") t = $(i + 1) }
			/signalstats.YAVG/ && $2 + 0 < 128 { print t; exit }')
	if near "${at:-99}" 2.0 "$(awk -v f="$fps" 'BEGIN { print 1 / f + 0.001 }')"; then pass vfr3-in-sync
	else fail vfr3-in-sync "the picture turns black at ${at:-never} s, want 2.0 s (output at $fps fps)"; fi
fi

# the same with timestamps bent by setpts: frames spaced 1/30 s for 1 s, then 1/10 s
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=s=320x240:r=30:d=2" \
	-vf "setpts='if(lt(N,30),N,30+(N-30)*3)/(30*TB)'" -fps_mode passthrough -c:v libx264 -preset ultrafast \
	-g 10 "$T/vfr2.mkv"
if render vfr2 "$T/vfr2.mkv" -s 1; then
	same_duration vfr2-duration "$T/vfr2.mkv" "$T/vfr2.mp4"
fi

check working-directories-removed tmp_clean
finish
