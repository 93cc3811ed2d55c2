#!/usr/bin/env bash
# Sparse keyframes: a clip with a single keyframe still spreads over every worker, frame-exact.
. "$(dirname "$0")/lib.sh"

ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=320x240:rate=30:duration=8" \
	-f lavfi -i "sine=duration=8" -c:v libx264 -preset ultrafast -g 100000 -keyint_min 100000 \
	-sc_threshold 0 -pix_fmt yuv420p -c:a aac "$T/onekey.mp4"
check "the test clip has one keyframe" [ "$(ffprobe -v error -select_streams v:0 -skip_frame nokey -count_frames -show_entries stream=nb_read_frames -of csv=p=0 "$T/onekey.mp4")" = 1 ]

run_master split -f grayscale -w 2 --compare --json -o "$T/out.mp4" "$T/onekey.mp4"
check "renders (exit 0)" [ "$rc" = 0 ]
check "split into pieces for both workers" jt "$T/split.out" '.segments_total == 2 and ([.timeline[] | select(.phase == "parallel") | .worker] | unique | length) == 2'
check "the pieces ran at the same time" jt "$T/split.out" '[.timeline[] | select(.phase == "parallel")] | (.[0].start < .[1].end and .[1].start < .[0].end)'
check "frames out equal frames in" [ "$(frames "$T/out.mp4")" = 240 ]
check "byte-identical to the sequential run" jt "$T/split.out" '.identical == true'
# a frame lost or repeated at the split would put every later frame out of step with the input
minpsnr=$(min_psnr_y "$T/out.mp4" "$T/onekey.mp4")
check "every frame matches its input frame (min PSNR $minpsnr dB > 30)" gt "$minpsnr" 30
check "audio kept" has_audio "$T/out.mp4"
# The second piece decodes from the keyframe and drops what comes before its first frame: those
# frames, and grayscale's untouched luma, go from decoder to encoder without entering a worker.
check "grayscale: no byte of a frame entered the workers" jt "$T/split.out" '.worker_copied_bytes == 0'
run_master splitblur -f blur -w 2 --json -o "$T/blur.mp4" "$T/onekey.mp4"
check "blur: the workers read each kept frame once, not the pre-roll (240 x 320x240 4:2:0)" \
	jt "$T/splitblur.out" '.worker_copied_bytes == 240 * 115200 and ([.pieces[].preroll] | add) > 0'

# Balanced cutting: 30 s at the default 10 s on 2 workers would be 3 segments, one worker doing
# two while the other waits; the count is rounded to a multiple of the workers instead.
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=160x120:rate=30:duration=30" \
	-c:v libx264 -preset ultrafast -g 15 -pix_fmt yuv420p "$T/thirty.mp4"
run_master bal2 -f grayscale -w 2 -s 10 --json -o "$T/bal2.mp4" "$T/thirty.mp4"
check "30 s on 2 workers at most 10 s: 4 segments of 7.5 s, not 3 of 10" jt "$T/bal2.out" '.segments_total == 4'
# (who takes which is up to the pool: a worker that starts late may leave three to the other)
check "both workers rendered some of them" jt "$T/bal2.out" '[.timeline[] | select(.phase == "parallel") | .worker] | unique | length == 2'
check "balanced: frames out equal frames in" [ "$(frames "$T/bal2.mp4")" = 900 ]
run_master bal3 -f grayscale -w 3 --json -o "$T/bal3.mp4" "$T/thirty.mp4"
check "30 s on 3 workers by default: 3 segments of 10 s" jt "$T/bal3.out" '.segments_total == 3'
# the default is long pieces (60 s): each piece pays two ffmpeg starts and a pre-roll
run_master bal2d -f grayscale -w 2 --json -o "$T/bal2d.mp4" "$T/thirty.mp4"
check "30 s on 2 workers by default: 2 segments of 15 s" jt "$T/bal2d.out" '.segments_total == 2 and .frames_out == 900'
run_master bal4 -f grayscale -w 4 -s 5 --json -o "$T/bal4.mp4" "$T/thirty.mp4"
check "30 s on 4 workers at most 5 s: 8 segments" jt "$T/bal4.out" '.segments_total == 8'

# Every frame a keyframe (all-intra, as ProRes, DNxHD or MJPEG in MOV are): the cut's files are
# a quarter second each, so a 20 s piece decodes 80 of them as one stream.
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=160x120:rate=30:duration=40" \
	-c:v libx264 -preset ultrafast -g 1 -pix_fmt yuv420p "$T/intra.mp4"
run_master intra -f grayscale -w 2 --json -o "$T/intra.out.mp4" "$T/intra.mp4"
check "all-intra 40 s: renders in 2 pieces of over 64 files each" \
	jt "$T/intra.out" '.status == "completed" and .segments_total == 2 and ([.pieces[].files] | min) > 64'
check "all-intra: frames out equal frames in" [ "$(frames "$T/intra.out.mp4")" = 1200 ]
finish
