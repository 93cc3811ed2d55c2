#!/usr/bin/env bash
# Every real clip of the shared media set (../shared/media, MANIFEST.tsv) through the command line:
# it must work, keep every frame ffprobe decodes, keep the sound, and come out as H.264 MP4 with
# faststart, in the input's chroma subsampling and bit depth. Of bad/ (its own MANIFEST.tsv), a
# file with frames ffmpeg decodes renders them (a truncated one says so); one with none is
# refused in one line.
. "$(dirname "$0")/lib.sh"
# want_pf PIX_FMT RANGE: what the output of an input in PIX_FMT is: its chroma, its depth up to
# 10 bits, 8-bit full range named yuvj*
want_pf() {
	local c=420 d=""
	case $1 in *444*) c=444 ;; *422*|nv16) c=422 ;; esac
	case $1 in *p10*|*p12*|*p14*|*p16*|p010*) d=10le ;; esac
	if [ -z "$d" ] && { [ "$2" = pc ] || [ "${1#yuvj}" != "$1" ]; }; then echo "yuvj${c}p"; else echo "yuv${c}p$d"; fi
}
private_tmp

have_media real-media || finish
MANIFEST=$MEDIA/MANIFEST.tsv

# mf FILE COLUMN [MANIFEST]: a column of the manifest's row for FILE
mf() {
	awk -F'\t' -v f="$1" -v c="$2" 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$1 == f { print $(col[c]); exit }' "${3:-$MANIFEST}"
}

count=0
for path in "$MEDIA"/*.mp4 "$MEDIA"/*.mov "$MEDIA"/*.mkv "$MEDIA"/*.webm "$MEDIA"/*.avi "$MEDIA"/*.AVI; do
	[ -f "$path" ] || continue
	f=$(basename "$path")
	n=real-${f%.*}
	out=$T/$f.mp4
	count=$((count + 1))
	want_frames=$(mf "$f" frames)
	want_audio=$(mf "$f" has_audio)
	fps=$(mf "$f" fps)
	disp=$(mf "$f" display_resolution)
	if [ -z "$want_frames" ]; then
		fail "$n" "not in MANIFEST.tsv"
		continue
	fi
	# grayscale + ultrafast keeps the sweep short; segments of ~2 s give several per clip
	run_master "$n" --json --no-baseline -w 2 -s 2 --preset ultrafast -o "$out" "$path"
	if [ "$rc" -ne 0 ] || [ ! -s "$out" ]; then
		fail "$n" "$(why "$n")"
		continue
	fi
	pass "$n"
	got=$(frames "$out")
	# every frame ffprobe decodes (the manifest's count), whether the rate is constant or
	# variable ("r=60 avg=1000")
	vfr=$(jf "$T/$n.out" .input.variable_frame_rate)
	case $fps in
	*=*) ;;
	*) check "$n-constant-rate" [ "$vfr" = false ] ;;
	esac
	if [ "$got" = "$want_frames" ]; then
		pass "$n-frames"
	else
		fail "$n-frames" "out $got, manifest (ffprobe -count_frames) $want_frames"
	fi
	check "$n-json-frames-out" [ "$(jf "$T/$n.out" .frames_out)" = "$got" ]
	if [ "$want_audio" = yes ]; then
		a=$(acodec "$out" | cut -d, -f1)
		# copied when MP4 holds it (AAC, MP3, AC-3...), else AAC
		a_in=$(acodec "$path" | cut -d, -f1)
		if [ "$a" = aac ] || [ "$a" = "$a_in" ]; then pass "$n-audio"; else fail "$n-audio" "audio codec '$a', want aac or $a_in copied"; fi
		check "$n-audio-length" near "$(duration "$out" a)" "$(duration "$out" v)" 0.15
	else
		check "$n-no-audio" eval '! has_audio "$out"'
	fi
	# the input's chroma subsampling and bit depth (10 at most) are kept, and full range stays
	# full range (ffprobe calls full-range 8-bit H.264 yuvj420p)
	pf=$(want_pf "$(ffprobe -v error -select_streams v:0 -show_entries stream=pix_fmt -of csv=p=0 "$path" | head -n 1)" \
		"$(ffprobe -v error -select_streams v:0 -show_entries stream=color_range -of csv=p=0 "$path" | head -n 1)")
	check "$n-h264-$pf-mp4" [ "$(vinfo "$out"),$(brand "$out")" = "h264,$pf,isom" ]
	check "$n-faststart" faststart "$out"
	# turned upright already: a display matrix left in the output would turn it again
	check "$n-no-rotation-left" [ -z "$(ffprobe -v error -select_streams v:0 -show_entries stream_side_data=rotation -of csv=p=0 "$out")" ]
	w=${disp%x*} h=${disp#*x}
	check "$n-size" [ "$(dims "$out")" = "$((w / 2 * 2))x$((h / 2 * 2))" ]
	check "$n-video-duration" near "$(duration "$out")" "$(mf "$f" duration_s)" 0.1
	# the picture is the input's (the luma survives grayscale; a wrong turn or pixel format does not)
	[ "$vfr" = true ] || p=$(psnr_y "$path" "$out" "crop=$((w / 2 * 2)):$((h / 2 * 2)):0:0")
	if [ "$vfr" = true ]; then
		:  # frames do not pair one to one
	elif gt "$p" 30; then
		pass "$n-picture-kept"
	else
		fail "$n-picture-kept" "Y PSNR vs input $p dB"
	fi
done
check media-clips-found [ "$count" -ge 10 ]

# ---- bad/: what ffmpeg decodes of a broken file is rendered; nothing decodable is refused ----

BADM=$MEDIA/bad/MANIFEST.tsv
if [ ! -r "$BADM" ]; then
	echo "SKIP media-bad: no $BADM"
else
	for path in "$MEDIA"/bad/*; do
		f=$(basename "$path")
		case $f in *.tsv|*.md) continue ;; esac
		n=bad-${f%.*}
		want_frames=$(mf "$f" frames "$BADM")
		if [ -z "$want_frames" ]; then
			fail "$n" "not in bad/MANIFEST.tsv"
			continue
		fi
		run_master "$n" --json --no-baseline -w 2 -s 2 --preset ultrafast -o "$T/$f.mp4" "$path"
		if [ "$want_frames" -eq 0 ]; then
			# refused: exit 1, the reason in one line (--json lets warnings through), no output
			check "$n-refused" [ "$rc" -eq 1 -a ! -e "$T/$f.mp4" ]
			check "$n-one-reason" [ "$(grep -c '^master: ' "$T/$n.err")" -eq 1 ]
			continue
		fi
		if [ "$rc" -ne 0 ] || [ ! -s "$T/$f.mp4" ]; then
			fail "$n" "$(why "$n")"
			continue
		fi
		pass "$n"
		check "$n-frames" [ "$(frames "$T/$f.mp4")" = "$want_frames" ]
		if grep -q 'ended prematurely' <<<"$(mf "$f" decode_check "$BADM")"; then
			check "$n-says-truncated" [ "$(jf "$T/$n.out" .input.truncated)" = true ]
			check "$n-warns" grep -q "warn .*truncated" "$T/$n.err"
		fi
		[ "$(mf "$f" has_audio "$BADM")" = yes ] && check "$n-audio" has_audio "$T/$f.mp4"
	done
fi

check working-directories-removed tmp_clean
finish
