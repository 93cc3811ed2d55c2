#!/usr/bin/env bash
# The join runs beside the render: the joining ffmpeg starts with the first piece and reads
# the pieces in order as they are rendered (MPEG-TS on its stdin), so the output is complete a
# remux of the last piece after it. What comes out is what the join after the render made:
# every frame, the sound, the same bytes however many workers rendered the pieces.
. "$(dirname "$0")/lib.sh"
private_tmp

gen_clip "$T/clip.mp4" 6
# one worker renders its pieces in order: the first is done while the others still render
run_master one --no-baseline -w 1 -s 2 --json -f grayscale -o "$T/one.mp4" "$T/clip.mp4"
check "renders 3 pieces on one worker (exit 0)" [ "$rc" = 0 ] && jt "$T/one.out" '.segments_total == 3'
check "the join started before the last piece ended" jt "$T/one.out" \
	'.join_start != null and .join_start < ([.timeline[] | select(.phase == "parallel") | .end] | max)'
check "frames out equal frames in" [ "$(frames "$T/one.mp4")" = 180 ]
check "the video lasts what the input's does" near "$(duration "$T/one.mp4")" 6 0.001
check "audio kept, as long as the video" near "$(duration "$T/one.mp4" a)" 6 0.05
# a piece's times off by its B-frame delay would put two frames at one time at a boundary
steps=$(ffprobe -v error -select_streams v:0 -show_entries packet=pts_time -of csv=p=0 "$T/one.mp4" |
	sort -g | awk 'NR > 1 { d = $1 - p; if (d < 0.0323 || d > 0.0344) bad++ } { p = $1 } END { print bad + 0 }')
check "a frame every 1/30 s across the pieces' boundaries ($steps off)" [ "$steps" = 0 ]
run_master three --no-baseline -w 3 -s 2 --json -f grayscale -o "$T/three.mp4" "$T/clip.mp4"
check "3 workers (exit 0)" [ "$rc" = 0 ]
check "byte-identical to the one-worker output" cmp -s "$T/one.mp4" "$T/three.mp4"
# what the old join made: the concat demuxer over the finished pieces, same options
run_master mkv --no-baseline -w 2 -s 2 -f grayscale -o "$T/two.mkv" "$T/clip.mp4"
check "Matroska out too (exit 0)" [ "$rc" = 0 ]
check "Matroska: frames out equal frames in" [ "$(frames "$T/two.mkv")" = 180 ]
check "no working directory left" tmp_clean
finish
