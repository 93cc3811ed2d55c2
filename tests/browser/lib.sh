# What the browser tests share, sourced by each tests/browser/test_*.sh after setting nothing:
# tests/e2e/lib.sh, the page's test tools (browser_need), one `master serve` on a free port
# (browser_serve), stopped and its scratch directory removed at exit, and a node test file run
# with its PASS/FAIL lines and, when it fails, the master's log (browser_node).
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

here=$VR_ROOT/tests/browser
chromium=${CHROMIUM:-/usr/bin/chromium}
pid=

browser_stop() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		# a master that ignores SIGTERM for 5 s is killed
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$T"
}
trap browser_stop EXIT
trap 'exit 143' TERM INT

# browser_need NAME: fails NAME and ends the test when the master, playwright-core or Chromium
# is missing.
browser_need() {
	if [ ! -x "$MASTER" ]; then
		fail "$1" "no $MASTER (run make)"
		finish
	fi
	if [ ! -d "$here/node_modules/playwright-core" ]; then
		fail "$1" "playwright-core is not installed (run scripts/install-deps)"
		finish
	fi
	if [ ! -x "$chromium" ]; then
		fail "$1" "no chromium at $chromium (run scripts/install-deps)"
		finish
	fi
}

# browser_serve NAME OPTION...: `master serve` on loopback, a free port and $T/data with the
# options, log in $T/master.log; sets pid and BASE once it answers /health, else fails NAME
# and ends the test.
browser_serve() {
	local name=$1 port up=0
	shift
	# a free port: bind port 0 and let the kernel pick one
	port=$(node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
	"$MASTER" serve --host 127.0.0.1 --port "$port" --data-dir "$T/data" "$@" \
		>"$T/master.log" 2>&1 </dev/null &
	pid=$!
	for _ in $(seq 100); do
		if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
			up=1
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ $up -eq 0 ]; then
		fail "$name" "master serve did not answer /health: $(tail -n 3 "$T/master.log" | tr '\n' '|')"
		finish
	fi
	BASE="http://127.0.0.1:$port"
}

# browser_node NAME SECONDS FILE: runs the node test FILE (its settings in the environment,
# e.g. `BASE=... browser_node page 240 page.test.mjs`) for at most SECONDS and prints its lines;
# a failure without a FAIL line of its own fails NAME, and shows the master's last log lines.
browser_node() {
	local name=$1 seconds=$2 file=$3 rc
	# node in the background so a TERM from the runner reaches the trap at once
	timeout -k 5 "$seconds" node "$file" >"$T/node.out" 2>&1 &
	wait $!
	rc=$?
	cat "$T/node.out"
	if [ $rc -ne 0 ]; then
		grep -q '^FAIL ' "$T/node.out" || fail "$name" "node exited with $rc"
		echo "--- master log (last 30 lines)"
		tail -n 30 "$T/master.log"
		e2e_failed=1
	fi
}
