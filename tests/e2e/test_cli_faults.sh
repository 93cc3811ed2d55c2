#!/usr/bin/env bash
# Faults while the command line renders: a worker killed with SIGKILL mid-segment is replaced and
# its segment re-run; Ctrl-C stops everything and leaves nothing behind.
. "$(dirname "$0")/lib.sh"
private_tmp

# workers MASTERPID: pids of the master's forked workers (its children that are not ffmpeg)
workers() { ps --ppid "$1" -o pid=,comm= 2>/dev/null | awk '$2 != "ffmpeg" && $2 != "ffprobe" { print $1 }'; }
# busy_worker MASTERPID: the pid of a worker that has ffmpeg children (is rendering), if any
busy_worker() {
	local w
	for w in $(workers "$1"); do
		if ps --ppid "$w" -o comm= 2>/dev/null | grep -qx ffmpeg; then
			echo "$w"
			return 0
		fi
	done
	return 1
}
# alive PID: the process exists and is not a zombie (this container's init does not reap orphans)
alive() { ps -o stat= -p "$1" 2>/dev/null | grep -q '^[^Z]'; }
# survivors PID...: those of the processes still alive after up to 5 s
survivors() {
	local p left
	for _ in $(seq 50); do
		left=
		for p in "$@"; do alive "$p" && left="$left $p($(ps -o comm= -p "$p"))"; done
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	echo "$left"
}
# wait_busy: waits (up to 60 s) for a worker of $mpid_real to render; its pid in $victim
wait_busy() {
	victim=
	for _ in $(seq 3000); do
		victim=$(busy_worker "$mpid_real") && return 0
		kill -0 "$mpid_real" 2>/dev/null || return 1
		sleep 0.02
	done
	return 1
}

gen_clip "$T/long.mp4" 12 || fail setup "cannot generate a clip"
IN_FRAMES=$(frames "$T/long.mp4")

# ---- kill -9 of a worker during the parallel run ----

start_master kill --json --no-baseline -w 2 -s 1 -o "$T/kill.mp4" "$T/long.mp4"
if wait_busy; then
	kids=$(ps --ppid "$victim" -o pid= | tr -d ' ')
	kill -9 "$victim"
	finish_master
	if [ "$rc" -ne 0 ]; then
		fail kill-worker-job-succeeds "$(why kill)"
	else
		pass kill-worker-job-succeeds
		check kill-worker-frames-out-equal-in [ "$(frames "$T/kill.mp4")" = "$IN_FRAMES" ]
		check kill-worker-json-frames-out [ "$(jf "$T/kill.out" .frames_out)" = "$IN_FRAMES" ]
		check kill-worker-retries-reported jt "$T/kill.out" '(.retries | length) >= 1'
		check kill-worker-retry-names-signal jt "$T/kill.out" '.retries[0].error | test("signal 9|Killed|SIGKILL"; "i")'
		check kill-worker-duration near "$(duration "$T/kill.mp4")" "$(duration "$T/long.mp4")" 0.04
		check kill-worker-audio has_audio "$T/kill.mp4"
		# a lost segment re-rendered elsewhere: the picture has no gap or repeat (compare to input)
		p=$(psnr_y "$T/long.mp4" "$T/kill.mp4")
		if gt "$p" 35; then pass kill-worker-picture; else fail kill-worker-picture "Y PSNR vs input $p dB"; fi
	fi
	check kill-worker-warned grep -qi "re-running\|retr" "$T/kill.err"
	# the killed worker's decoder and encoder end on their own (broken pipes), not linger
	left=$(survivors $kids)
	if [ -z "$left" ]; then pass kill-worker-no-orphan-ffmpeg; else fail kill-worker-no-orphan-ffmpeg "still running:$left"; fi
else
	finish_master
	fail kill-worker-job-succeeds "never saw a worker rendering (master pid $mpid_real, $(why kill))"
fi

# ---- kill -9 of the one worker of the sequential baseline: still byte-identical ----

gen_clip "$T/mid.mp4" 6 || fail setup "cannot generate a clip"
start_master killseq --json --compare -w 2 -s 1 -o "$T/killseq.mp4" "$T/mid.mp4"
if wait_busy; then
	kill -9 "$victim"
	finish_master
	if [ "$rc" -ne 0 ]; then
		fail kill-baseline-worker-job-succeeds "$(why killseq)"
	else
		pass kill-baseline-worker-job-succeeds
		check kill-baseline-worker-retries jt "$T/killseq.out" '(.retries | length) >= 1'
		check kill-baseline-worker-identical [ "$(jf "$T/killseq.out" .identical)" = true ]
		check kill-baseline-worker-frames [ "$(frames "$T/killseq.mp4")" = "$(frames "$T/mid.mp4")" ]
	fi
else
	finish_master
	fail kill-baseline-worker-job-succeeds "never saw a worker rendering ($(why killseq))"
fi

# ---- Ctrl-C: exit 130, no output, no working directory, no process left ----

start_master int --no-baseline -w 2 -s 1 -o "$T/int.mp4" "$T/long.mp4"
if wait_busy; then
	procs="$(workers "$mpid_real") $(for w in $(workers "$mpid_real"); do ps --ppid "$w" -o pid=; done)"
	kill -INT "$mpid_real"
	finish_master
	check interrupt-exit-130 [ "$rc" -eq 130 ]
	check interrupt-says-cancelled grep -qi cancel "$T/int.err"
	check interrupt-no-output [ ! -e "$T/int.mp4" -a ! -e "$T/int.mp4.part" ]
	left=$(survivors $procs)
	if [ -z "$left" ]; then pass interrupt-no-process-left; else fail interrupt-no-process-left "still running:$left"; fi
	check interrupt-working-directory-removed tmp_clean
else
	finish_master
	fail interrupt-exit-130 "never saw a worker rendering ($(why int))"
fi

# ---- Ctrl-C while probing: the probe is stopped and reaped before exit (under ASan a proc
# left unreaped is a leak, and the exit status would not be 130) ----

mkdir -p "$T/slowprobe"
printf '#!/bin/sh\nif [ "$1" != -version ]; then sleep 2; fi\nexec %s "$@"\n' "$(command -v ffprobe)" > "$T/slowprobe/ffprobe"
chmod +x "$T/slowprobe/ffprobe"
PATH="$T/slowprobe:$PATH" start_master intprobe --no-baseline -w 2 -o "$T/intprobe.mp4" "$T/long.mp4"
sleep 0.7
kill -INT "$mpid_real"
finish_master
check interrupt-while-probing-exit-130 [ "$rc" -eq 130 ]
check interrupt-while-probing-says-cancelled grep -qi cancel "$T/intprobe.err"
check interrupt-while-probing-nothing-leaks sh -c "! grep -q 'LeakSanitizer' '$T/intprobe.err'"
check interrupt-while-probing-working-directory-removed tmp_clean

# ---- SIGTERM while cutting or rendering: the same clean stop ----

start_master term --no-baseline -w 2 -s 1 -o "$T/term.mp4" "$T/long.mp4"
if wait_busy; then
	kill -TERM "$mpid_real"
	finish_master
	check terminate-stops-with-failure [ "$rc" -ne 0 ]
	check terminate-no-output [ ! -e "$T/term.mp4" -a ! -e "$T/term.mp4.part" ]
	check terminate-working-directory-removed tmp_clean
else
	finish_master
	fail terminate-stops-with-failure "never saw a worker rendering ($(why term))"
fi

finish
