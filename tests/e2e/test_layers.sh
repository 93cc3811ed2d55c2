#!/usr/bin/env bash
# The folders are layers (common/ <- worker/ <- master/): common/ includes neither worker/ nor
# master/, worker/ never master/, and master/ reaches into worker/ only to fork worker_main.
# Checked on the sources' #include lines and on the built libraries' symbols, so a call made
# through a declaration copied by hand is caught too.
. "$(dirname "$0")/lib.sh"

cd "$VR_ROOT" || exit 1

# includes FROM TO: the #include "TO/..." lines of FROM/ (file:line: text), one a line
includes() { grep -rn --include='*.c' --include='*.h' "^[[:space:]]*#[[:space:]]*include[[:space:]]*\"$2/" "$1/" || true; }

bad=$(includes common worker; includes common master)
check "common/ includes nothing of worker/ or master/${bad:+: $bad}" [ -z "$bad" ]
bad=$(includes worker master)
check "worker/ includes nothing of master/${bad:+: $bad}" [ -z "$bad" ]
bad=$(includes master worker | grep -v '#include "worker/worker.h"')
check "master/ includes of worker/ only worker/worker.h${bad:+: $bad}" [ -z "$bad" ]

# What master's objects take from worker's: worker_main alone.
if [ -f "$VR_BUILD/libmaster.a" ] && [ -f "$VR_BUILD/libworker.a" ] && command -v nm >/dev/null; then
	nm -g --defined-only -j "$VR_BUILD/libworker.a" 2>/dev/null | grep -v ':$' | sort -u >"$T/worker.syms"
	nm -u -j "$VR_BUILD/libmaster.a" 2>/dev/null | grep -v ':$' | sort -u >"$T/master.undef"
	used=$(comm -12 "$T/worker.syms" "$T/master.undef" | tr '\n' ' ')
	check "master/ calls into worker/ only worker_main (calls: ${used:-none})" [ "$used" = "worker_main " ]
	nm -u -j "$VR_BUILD/libcommon.a" 2>/dev/null | grep -v ':$' | sort -u >"$T/common.undef"
	nm -g --defined-only -j "$VR_BUILD/libmaster.a" 2>/dev/null | grep -v ':$' | sort -u >"$T/master.syms"
	used=$(cat "$T/worker.syms" "$T/master.syms" | sort -u | comm -12 - "$T/common.undef" | tr '\n' ' ')
	check "common/ calls nothing of worker/ or master/${used:+ (calls: $used)}" [ -z "$used" ]
	nm -u -j "$VR_BUILD/libworker.a" 2>/dev/null | grep -v ':$' | sort -u >"$T/worker.undef"
	used=$(comm -12 "$T/master.syms" "$T/worker.undef" | tr '\n' ' ')
	check "worker/ calls nothing of master/${used:+ (calls: $used)}" [ -z "$used" ]
else
	skip "master/ calls into worker/ only worker_main" "no $VR_BUILD/libmaster.a, libworker.a or nm"
	skip "common/ calls nothing of worker/ or master/" "no $VR_BUILD/libcommon.a or nm"
	skip "worker/ calls nothing of master/" "no $VR_BUILD/libworker.a or nm"
fi
finish
