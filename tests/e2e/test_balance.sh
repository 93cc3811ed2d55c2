#!/usr/bin/env bash
# Balanced pieces whatever the keyframes: x264's default GOP (a keyframe every 250 frames, 8.3 s)
# on a 20 s clip used to be cut into 16.7 s + 3.3 s, one worker idle most of the time. The
# pieces now end on frame numbers: each worker gets the same work (its frames plus the
# pre-roll it decodes and drops), every frame comes out once and in order, the parallel run
# is byte-identical to the sequential one, and a remote worker gets the same pieces' files
# through its pipe and encodes the same bytes.
. "$(dirname "$0")/lib.sh"

ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=320x180:rate=30:duration=20" \
	-f lavfi -i "sine=duration=20" -c:v libx264 -preset ultrafast -g 250 -sc_threshold 0 \
	-pix_fmt yuv420p -c:a aac "$T/gop250.mp4"
keys=$(ffprobe -v error -select_streams v:0 -skip_frame nokey -count_frames \
	-show_entries stream=nb_read_frames -of csv=p=0 "$T/gop250.mp4")
check "the test clip has 3 keyframes, 250 frames apart" [ "$keys" = 3 ]

# cost of a piece as the master weighs it: frames kept + 0.25 x pre-roll frames (SEG_PREROLL_COST);
# within 5% (the first pieces are planned while the cut runs, later pre-rolls guessed)
balanced='[.pieces[] | .frames + 0.25 * .preroll] | (max / min) <= 1.05'

run_master two -f grayscale -w 2 --compare --json -o "$T/two.mp4" "$T/gop250.mp4"
check "renders on 2 workers (exit 0)" [ "$rc" = 0 ]
check "2 pieces" jt "$T/two.out" '.segments_total == 2 and (.pieces | length) == 2'
check "the pieces' work is balanced (not 500 + 100 frames)" jt "$T/two.out" "$balanced"
check "the second piece decodes its keyframe's pre-roll and drops it" jt "$T/two.out" '.pieces[1].preroll > 0 and .pieces[1].files == 2'
check "the pieces' frames add up to the input's" jt "$T/two.out" '([.pieces[].frames] | add) == 600 and .frames_out == 600'
check "frames out equal frames in" [ "$(frames "$T/two.mp4")" = 600 ]
check "byte-identical to the sequential run" jt "$T/two.out" '.identical == true'
check "audio kept" has_audio "$T/two.mp4"
# a frame lost or repeated at a boundary would put every later frame out of step with the input
minpsnr=$(min_psnr_y "$T/two.mp4" "$T/gop250.mp4")
check "every frame matches its input frame (min PSNR $minpsnr dB > 30)" gt "$minpsnr" 30

run_master three -f grayscale -w 3 --no-baseline --json -o "$T/three.mp4" "$T/gop250.mp4"
check "3 workers: 3 balanced pieces" jt "$T/three.out" ".segments_total == 3 and ($balanced)"
check "3 workers: frames out equal frames in" [ "$(frames "$T/three.mp4")" = 600 ]

# the same pieces through a remote worker's pipe (several files each): the same bytes (-s 10:
# 2 pieces for the one remote worker too, as for the 2 local ones)
run_master local -q -f grayscale -w 2 -s 10 --no-baseline -o "$T/local.mp4" "$T/gop250.mp4"
run_master remote -q -f grayscale -w 0 -s 10 --no-baseline --remote "$WORKER --name far" -o "$T/remote.mp4" "$T/gop250.mp4"
check "a remote worker renders the multi-file pieces (exit 0)" [ "$rc" = 0 ]
check "a remote worker's output is byte-identical to the local one" cmp -s "$T/local.mp4" "$T/remote.mp4"
finish
