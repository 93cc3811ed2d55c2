#!/usr/bin/env bash
# The master learns of the cut's files from the cutter's own writes to its list (inotify), not
# by looking at the list on a timer: while the cutting ffmpeg is stopped the master sleeps,
# and once it goes on the pieces still reach the workers and every frame comes out.
. "$(dirname "$0")/lib.sh"
private_tmp

gen_clip "$T/clip.mp4" 6
# an ffmpeg that stops itself before it cuts, until the test lets it go on
stopping_ffmpeg '*" -segment_list "*' "$T/cutter.pid"

PATH="$T/bin:$PATH" start_master run --no-baseline -w 2 --json -f grayscale -o "$T/out.mp4" "$T/clip.mp4"
for _ in $(seq 300); do
	[ -s "$T/cutter.pid" ] && break
	sleep 0.02
done
cutter=$(cat "$T/cutter.pid" 2>/dev/null)
# the master's wake-ups (voluntary context switches: it slept and something woke it) while
# nothing is written: a 10 ms look at the list would be ~100 in this second; the CLI's own
# 250 ms tick is 4, and the workers' start-up messages a few more, which under ASan (slow to
# start) can land in this second too: hence the bound halfway, and half a second to settle
switches() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$mpid_real/status"; }
sleep 0.5
before=$(switches)
sleep 1
after=$(switches)
release_ffmpeg
finish_master
woke=$((after - before))
check "the cutting ffmpeg was started and stopped" [ -n "$cutter" ]
check "the master slept while the cut wrote nothing (woke $woke times in 1 s, < 50)" [ "$woke" -lt 50 ]
check "renders once the cut goes on (exit 0)" [ "$rc" = 0 ]
check "frames out equal frames in" [ "$(frames "$T/out.mp4")" = 180 ]
check "the pieces were handed out as the cut listed them (2 pieces)" jt "$T/run.out" '.segments_total == 2 and .frames_out == 180'
check "no working directory left" tmp_clean
finish
