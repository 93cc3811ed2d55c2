#!/usr/bin/env bash
# The cut starts beside the probe instead of after it (one ffmpeg start less before the first
# worker): a constant-rate MP4 is cut while ffprobe runs and that cut is the job's; a
# variable-rate file, whose render is not frame-exact, has that cut stopped and is cut again
# as before. Every frame comes out either way and nothing is left behind.
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
check "variable rate: the early cut was stopped and the file cut again" \
	[ "$(tr '\n' ' ' <"$T/cutters" 2>/dev/null)" = "segments segments.2 " ]
check "variable rate: frames out equal frames in" [ "$(frames "$T/vfr.mp4")" = 90 ]
check "variable rate: no working directory left" tmp_clean
finish
