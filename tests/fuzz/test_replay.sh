#!/usr/bin/env bash
# Replays every seed and every input that once failed through each fuzz target, built with
# the replay driver (tests/fuzz/replay.c) by `make test` and `make asan`: one PASS/FAIL line
# per target. A target missing from the build fails too, so a new fuzz_*.c is not skipped.
source "$(dirname "$0")/../e2e/lib.sh"
cd "$VR_ROOT/tests/fuzz"

for src in fuzz_*.c; do
	t=${src#fuzz_}
	t=${t%.c}
	bin=$VR_BUILD/fuzz/$t
	dirs=(corpus/"$t")
	[ -d "regress/$t" ] && dirs+=(regress/"$t")
	if [ ! -x "$bin" ]; then
		fail "$t" "$bin is not built"
		continue
	fi
	if [ ! -d "corpus/$t" ] || [ -z "$(ls -A "corpus/$t")" ]; then
		fail "$t" "no seed corpus in tests/fuzz/corpus/$t"
		continue
	fi
	out=$(timeout 120 "$bin" "${dirs[@]}" 2>"$T/$t.err")
	rc=$?
	if [ $rc -eq 0 ]; then
		pass "$t ($out)"
	else
		fail "$t" "exit $rc on $(grep '^replay: ' "$T/$t.err" | tail -n 1 | cut -d' ' -f2-); $(grep -v '^replay: ' "$T/$t.err" | head -n 3 | tr '\n' '|' | cut -c1-400)"
	fi
done
finish
