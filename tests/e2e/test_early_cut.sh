#!/usr/bin/env bash
# The cut starts beside the probe instead of after it (one ffmpeg start less before the first
# worker): a constant-rate MP4 is cut while ffprobe runs and that cut is the job's; so is a
# variable-rate file's, whose pieces are runs of its files, each frame at its own time, and an
# AVI's, whose pieces end on any frame unless it drops frames. Every frame comes out either
# way and nothing is left behind.
. "$(dirname "$0")/lib.sh"
private_tmp

gen_clip "$T/clip.mp4" 6
# a variable rate: 2 s at 15 fps then 2 s at 30 fps (90 frames)
FF="ffmpeg -nostdin -v error -y"
$FF -f lavfi -i "testsrc2=size=320x240:rate=15:duration=2" -c:v libx264 -preset ultrafast -g 15 -pix_fmt yuv420p "$T/vfr15.mkv"
$FF -f lavfi -i "testsrc2=size=320x240:rate=30:duration=2" -c:v libx264 -preset ultrafast -g 30 -pix_fmt yuv420p "$T/vfr30.mkv"
printf 'file %s\nfile %s\n' "$T/vfr15.mkv" "$T/vfr30.mkv" >"$T/vfr.txt"
$FF -f concat -safe 0 -i "$T/vfr.txt" -c:v copy "$T/vfr.mkv"

# The job's ffprobe first waits for a cut file to be listed (at most 60 s, a bound for when
# none ever comes): one is, only if the cut was started before the probe. The cutters say
# where they write.
mkdir -p "$T/bin"
real_probe=$(command -v ffprobe)
real_ffmpeg=$(command -v ffmpeg)
cat >"$T/bin/ffprobe" <<SH
#!/usr/bin/env bash
case " \$* " in *" -show_streams "*)
	for _ in \$(seq 3000); do
		for l in "$VR_TMP"/video-renderer-*/segments/list.csv; do
			[ -s "\$l" ] && { echo yes >"$T/seen"; break 2; }
		done
		sleep 0.02
	done ;;
esac
exec "$real_probe" "\$@"
SH
cat >"$T/bin/ffmpeg" <<SH
#!/usr/bin/env bash
prev=
for a in "\$@"; do
	[ "\$prev" = -segment_list ] && basename "\$(dirname "\$a")" >>"$T/cutters"
	prev=\$a
done
exec "$real_ffmpeg" "\$@"
SH
chmod +x "$T/bin/ffprobe" "$T/bin/ffmpeg"

PATH="$T/bin:$PATH" run_master early --no-baseline -w 2 --json -f grayscale -o "$T/out.mp4" "$T/clip.mp4"
check "the cut had listed a file before the probe began" [ "$(cat "$T/seen" 2>/dev/null)" = yes ]
check "renders (exit 0)" [ "$rc" = 0 ]
check "one cut, the one started beside the probe" [ "$(cat "$T/cutters" 2>/dev/null)" = segments ]
check "frames out equal frames in" [ "$(frames "$T/out.mp4")" = 180 ]
check "2 pieces, frame-exact" jt "$T/early.out" '.segments_total == 2 and .frames_out == 180 and .pieces[1].preroll >= 0'
check "no working directory left" tmp_clean

rm -f "$T/seen" "$T/cutters"
PATH="$T/bin:$PATH" run_master vfr --no-baseline -w 2 --json -f grayscale -o "$T/vfr.mp4" "$T/vfr.mkv"
check "variable rate: renders (exit 0)" [ "$rc" = 0 ]
run_master vfr-report --no-baseline -w 2 -f grayscale -o "$T/vfr2.mp4" "$T/vfr.mkv"
check "variable rate: the report says each frame keeps its time" grep -q "^input .*(variable, each frame at its time)" "$T/vfr-report.out"
check "variable rate: one cut, the one beside the probe" \
	[ "$(tr '\n' ' ' <"$T/cutters" 2>/dev/null)" = "segments " ]
check "variable rate: pieces of several of its files" jt "$T/vfr.out" \
	'.segments_total == 2 and ([.pieces[].files] | min) > 1'
check "variable rate: frames out equal frames in" [ "$(frames "$T/vfr.mp4")" = 90 ]
# each file's span is given to the concat demuxer: without it the frames after each file
# boundary move by up to a frame
check "variable rate: every frame keeps its time (within 1 ms)" eval 'paste -d " " <(pts "$T/vfr.mkv") <(pts "$T/vfr.mp4") |
	awk "{ d = \$1 - \$2; if (d < 0) d = -d; if (d > 0.001) bad++ } END { exit !(NR == 90 && bad == 0) }"'
check "variable rate: no working directory left" tmp_clean

# AVI numbers its frames. Without B-frames and without a dropped frame those numbers are the
# frames' times, so its pieces end on any frame, like an MP4's: keyframes 40 frames apart
# would have given pieces of 40 and 50. One that drops frames (empty chunks the demuxer skips)
# keeps pieces of whole files and each frame's time; one with B-frames is not cut at all
# (seg_whole): that cut stops.
$FF -f lavfi -i "testsrc2=size=320x240:rate=30:duration=3" -c:v mpeg4 -g 40 -bf 0 -q:v 5 "$T/plain.avi"
$FF -f lavfi -i "testsrc2=size=320x240:rate=30:duration=3" -vf "select='not(between(n,20,22))'" \
	-fps_mode passthrough -c:v mpeg4 -g 40 -bf 0 -q:v 5 "$T/dropped.avi"
$FF -f lavfi -i "testsrc2=size=320x240:rate=30:duration=3" -c:v mpeg4 -bf 2 -q:v 5 "$T/bframes.avi"
rm -f "$T/seen" "$T/cutters"
PATH="$T/bin:$PATH" run_master avi --no-baseline -w 2 --json -f grayscale -o "$T/avi.mp4" "$T/plain.avi"
check "AVI: the cut had listed a file before the probe began" [ "$(cat "$T/seen" 2>/dev/null)" = yes ]
check "AVI: one cut, the one beside the probe" [ "$(tr '\n' ' ' <"$T/cutters" 2>/dev/null)" = "segments " ]
check "AVI: 2 pieces ending between keyframes, within 6 frames of each other" jt "$T/avi.out" \
	'.segments_total == 2 and .pieces[1].preroll > 0 and ([.pieces[].frames] | add) == 90 and
	 ((.pieces[0].frames - .pieces[1].frames) | fabs) <= 6 and .frames_out == 90'
check "AVI: frames out equal frames in" [ "$(frames "$T/avi.mp4")" = 90 ]
minpsnr=$(min_psnr_y "$T/avi.mp4" "$T/plain.avi")
check "AVI: every frame matches its input frame (min PSNR $minpsnr dB > 30)" gt "$minpsnr" 30
run_master dropped --no-baseline -w 2 --json -f grayscale -o "$T/dropped.mp4" "$T/dropped.avi"
check "AVI that drops frames: pieces of whole files, every frame out once" jt "$T/dropped.out" \
	'.segments_total == 2 and ([.pieces[].preroll] | max) == 0 and .frames_out == 87'
check "AVI that drops frames: frames out equal frames in" [ "$(frames "$T/dropped.mp4")" = 87 ]
run_master dropped-report --no-baseline -w 2 -f grayscale -o "$T/dropped2.mp4" "$T/dropped.avi"
check "AVI that drops frames: the report says so" grep -q "^input .*(frames dropped: each frame at its time)" "$T/dropped-report.out"
# numbered one after another, the 67 frames after the drop would come 0.1 s early
check "AVI that drops frames: every frame keeps its time (within 1 ms)" eval 'paste -d " " <(pts "$T/dropped.avi") <(pts "$T/dropped.mp4") |
	awk "{ d = \$1 - \$2; if (d < 0) d = -d; if (d > 0.001) bad++ } END { exit !(NR == 87 && bad == 0) }"'
run_master bframes --no-baseline -w 2 --json -f grayscale -o "$T/bframes.mp4" "$T/bframes.avi"
check "AVI with B-frames: not cut, decoded whole by both workers" jt "$T/bframes.out" \
	'.segments_total == 2 and .frames_out == 90 and ([.pieces[].preroll] | max) > 0'
check "AVI with B-frames: frames out equal frames in" [ "$(frames "$T/bframes.mp4")" = 90 ]
check "AVI: no working directory left" tmp_clean
finish
