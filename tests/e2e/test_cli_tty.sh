#!/usr/bin/env bash
# The command line as seen on a terminal: a progress bar per phase redrawn in place (under a
# pseudo-terminal made by util-linux's `script`), log lines above it and never inside it, 100%
# at the end, nothing of it off a terminal or with -q; and Ctrl-C (SIGINT to the whole
# foreground process group, as a terminal sends it) or SIGTERM ending in one line, 130 / 143.
. "$(dirname "$0")/lib.sh"
private_tmp

command -v script >/dev/null || { echo "SKIP test_cli_tty: no util-linux script"; finish; }
gen_clip "$T/clip.mp4" 3 || { fail setup "cannot generate the test clip"; finish; }
IN_FRAMES=$(frames "$T/clip.mp4")

# on_tty NAME ARGS...: the master on a pseudo-terminal; the raw bytes in $T/NAME.raw, exit in
# $rc, and in $T/NAME.screen the lines as they stay on the screen (the text after each line's
# last carriage return, without the erase-line sequences)
on_tty() {
	local name=$1 cmd; shift
	cmd=$(printf '%q ' timeout -k 5 180 "$MASTER" "$@")
	rc=0
	script -qfec "$cmd" "$T/$name.raw" </dev/null >/dev/null || rc=$?
	sed 's/\r$//' "$T/$name.raw" | awk -F'\r' '{ print $NF }' | sed 's/\x1b\[K//g' > "$T/$name.screen"
}

# ---- the bars ----

on_tty bar -w 2 -s 1 -o "$T/bar.mp4" "$T/clip.mp4"
S=$T/bar.screen
check bar-run-ok [ "$rc" -eq 0 -a "$(frames "$T/bar.mp4")" = "$IN_FRAMES" ]
for phase in probing splitting merging; do
	check "bar-$phase-ends-at-100" grep -Eq "^$phase +\[#+\] 100%  [0-9]+:[0-9]{2}$" "$S"
done
check bar-parallel-ends-at-100 grep -Eq \
	"^parallel +\[#+\] 100%  $IN_FRAMES/$IN_FRAMES frames  [0-9]+:[0-9]{2} ETA 0:00  [0-9.]+ fps  [0-9.]+x$" "$S"
check bar-one-line-per-phase [ "$(grep -Ec '^(probing|splitting|parallel|merging) +\[' "$S")" -eq 4 ]
# redrawn in place: the parallel bar was drawn more than once on its line
check bar-redrawn-in-place [ "$(grep -o 'parallel   *\[' "$T/bar.raw" | wc -l)" -ge 2 ]
# log lines on lines of their own, whole; no bar text inside a log line
check bar-log-line-whole grep -Eq '^[0-9]+ M [0-9:.]+ info cut into [0-9]+ (segments|files)' "$S"
check bar-log-line-whole-join grep -Eq '^[0-9]+ M [0-9:.]+ info joined in' "$S"
check bar-never-in-log-lines sh -c "! grep -E ' (info|warn|error) .*\] +[0-9]+%|%.*[0-9]+ M [0-9:.]+ (info|warn)' '$S'"
check bar-then-report grep -Eq '^output +'"$T"'/bar.mp4$' "$S"
check bar-order [ "$(grep -Eo '^(probing|splitting|parallel|merging) +\[' "$S" | cut -d' ' -f1 | tr '\n' ' ')" = "probing splitting parallel merging " ]

# with the baseline: a bar for the sequential run too
on_tty cmp --compare -w 2 -s 1 -o "$T/cmp.mp4" "$T/clip.mp4"
check bar-sequential-phase grep -Eq "^sequential +\[#+\] 100%  $IN_FRAMES/$IN_FRAMES frames" "$T/cmp.screen"

# -q on a terminal, or stderr not a terminal: no bar at all
on_tty quiet -q -w 2 -s 1 -o "$T/quiet.mp4" "$T/clip.mp4"
check quiet-tty-ok [ "$rc" -eq 0 ]
check quiet-tty-no-bar sh -c "! grep -Eq '%|\[#|\[-' '$T/quiet.raw'"
run_master notty -w 2 -s 1 -o "$T/notty.mp4" "$T/clip.mp4"
check no-tty-ok [ "$rc" -eq 0 ]
check no-tty-no-bar sh -c "! grep -q '%' '$T/notty.err' && ! grep -q \$'\r' '$T/notty.err'"
check no-tty-log-lines grep -q 'info cut into' "$T/notty.err"

# ---- Ctrl-C and SIGTERM: one line, the right exit status, nothing left ----

gen_clip "$T/long.mp4" 20 || fail setup "cannot generate a clip"

# stop NAME SIG: the master in a session of its own, as a terminal's foreground job; once it is
# rendering, SIG to its whole process group (what Ctrl-C does), or to the master alone (TERM)
stop() {
	local name=$1 sig=$2 pgid i procs left
	setsid "$MASTER" -f blur -w 2 -s 1 -o "$T/$name.mp4" "$T/long.mp4" >"$T/$name.out" 2>"$T/$name.err" </dev/null &
	local pid=$!
	for i in $(seq 300); do
		grep -q 'cut into' "$T/$name.err" && [ -n "$(ps --ppid "$pid" -o pid= | head -n 1)" ] && break
		sleep 0.1
	done
	sleep 0.5
	procs="$(ps --ppid "$pid" -o pid= | tr '\n' ' ')"
	for w in $procs; do procs="$procs $(ps --ppid "$w" -o pid= | tr '\n' ' ')"; done
	pgid=$(ps -o pgid= -p "$pid" | tr -d ' ')
	if ! kill -0 "$pid" 2>/dev/null || [ -z "$procs" ]; then
		wait "$pid"
		fail "$name-rendering" "the master was not rendering when signalled: $(tail -n 2 "$T/$name.err")"
		return
	fi
	if [ "$sig" = INT ]; then kill -INT -- "-$pgid"; else kill -TERM "$pid"; fi
	rc=0
	wait "$pid" || rc=$?
	# what was printed after the work began: the one line of the ending, and nothing else
	sed -n '/cut into/,$p' "$T/$name.err" | tail -n +2 > "$T/$name.after"
	# alive, not a zombie: this container's init does not reap orphans (up to 5 s)
	for i in $(seq 50); do
		left=
		for p in $procs; do ps -o stat= -p "$p" 2>/dev/null | grep -q '^[^Z]' && left="$left $p"; done
		[ -z "$left" ] && break
		sleep 0.1
	done
	[ -z "$left" ] || kill -9 $left 2>/dev/null
	check "$name-no-process-left" [ -z "$left" ]
	check "$name-no-output" [ ! -e "$T/$name.mp4" -a ! -e "$T/$name.mp4.part" ]
}

stop sigint INT
check sigint-exit-130 [ "$rc" -eq 130 ]
check sigint-one-line [ "$(wc -l < "$T/sigint.after")" -eq 1 ]
check sigint-says-so grep -qx 'master: cancelled by SIGINT (Ctrl-C)' "$T/sigint.after"
check sigint-no-worker-reported sh -c "! grep -Eqi 'worker|killed|warn|error' '$T/sigint.err'"

stop sigterm TERM
check sigterm-exit-143 [ "$rc" -eq 143 ]
check sigterm-one-line [ "$(wc -l < "$T/sigterm.after")" -eq 1 ]
check sigterm-says-so grep -qx 'master: cancelled by SIGTERM' "$T/sigterm.after"
check sigterm-no-worker-reported sh -c "! grep -Eqi 'worker|killed|warn|error' '$T/sigterm.err'"

check working-directories-removed tmp_clean
finish
