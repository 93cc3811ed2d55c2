#!/usr/bin/env bash
# An ffmpeg child of a worker killed on its own (not the worker): the worker reports the
# segment as worth retrying, the pool runs it again, and the output is whole.
. "$(dirname "$0")/lib.sh"
private_tmp

gen_clip "$T/clip.mp4" 10
"$MASTER" --json --no-baseline -w 2 -s 1 -f blur -o "$T/out.mp4" "$T/clip.mp4" >"$T/run.json" 2>"$T/run.err" &
pid=$!
victim=
for _ in $(seq 200); do
	# a decoder reading one of this run's segments
	victim=$(pgrep -f "ffmpeg .*-i $VR_TMP/video-renderer-.*/segments/seg_" | head -1)
	[ -n "$victim" ] && break
	sleep 0.05
done
[ -n "$victim" ] && kill -9 "$victim"
wait $pid; rc=$?
check "a decoder was found and killed" [ -n "$victim" ]
check "the run still succeeds" [ $rc = 0 ]
check "every frame is there" [ "$(frames "$T/out.mp4")" = 300 ]
check "the retry is reported with the signal" jt "$T/run.json" '.retries | length >= 1 and (.[0].error | test("signal 9"))'
check "no working directory left" tmp_clean
finish
