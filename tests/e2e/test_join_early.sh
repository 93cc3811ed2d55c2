#!/usr/bin/env bash
# The joining ffmpeg is started once a worker falls idle, before the last piece is done: it
# waits (reading its stdin to the end) without touching the list or the output, and joins
# every frame once the last piece is there. One that dies while it waits is replaced.
. "$(dirname "$0")/lib.sh"
private_tmp

gen_clip "$T/clip.mp4" 4
# an ffmpeg whose encode of piece 1 (to out_00001.mp4.PID.tmp) stops itself until the test
# lets it go on
stopping_ffmpeg '*"/par/out_00001.mp4."*' "$T/enc.pid"


# the master's child waiting on its stdin before the list: the join started early
waiting_join() { pgrep -P "$mpid_real" -f -- '-f data -i pipe:0' | head -n 1; }

# run NAME [kill]: renders with piece 1's encode stopped; sets $enc, $join, $part_seen
run() {
	local name=$1 how=${2:-}
	rm -f "$T/enc.pid" "$T/$name.mp4"
	enc= join=
	PATH="$T/bin:$PATH" start_master "$name" --no-baseline -w 2 --json -f grayscale \
		-o "$T/$name.mp4" "$T/clip.mp4"
	for _ in $(seq 1500); do
		[ -z "$enc" ] && enc=$(cat "$T/enc.pid" 2>/dev/null)
		[ -n "$enc" ] && join=$(waiting_join) && [ -n "$join" ] && break
		sleep 0.04
	done
	# nothing joined while a piece is missing
	part_seen=no
	[ -e "$T/$name.mp4.part" ] || [ -e "$T/$name.mp4" ] && part_seen=yes
	[ "$how" = kill ] && [ -n "$join" ] && kill -9 "$join"
	release_ffmpeg
	finish_master
}

run early
check "the join was started while piece 1 was still encoding" [ -n "$enc" -a -n "$join" ]
check "and wrote nothing while it waited" [ "$part_seen" = no ]
check "renders once the piece is done (exit 0)" [ "$rc" = 0 ]
check "frames out equal frames in" [ "$(frames "$T/early.mp4")" = 120 ]
check "the audio is kept" [ "$(acodec "$T/early.mp4")" = aac ]
check "--json says when it was started: before the list, before piece 1 ended" jt "$T/early.out" \
	'.join_spawn != null and .join_spawn < .join_start and
	 .join_spawn < ([.timeline[] | select(.segment == 1) | .end] | max)'

run killed kill
check "a join killed while it waited: the job still succeeds" [ "$rc" = 0 -a -n "$join" ]
check "and its frames are all there" [ "$(frames "$T/killed.mp4")" = 120 ]
check "no working directory left" tmp_clean
finish
