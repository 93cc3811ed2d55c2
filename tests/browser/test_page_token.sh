#!/usr/bin/env bash
# The bundled page in a real Chromium against `master serve --token-file`: the prompt, the tab's
# token and the links that work through the login cookie. The checks are in token.test.mjs.
source "$(dirname "$0")/../e2e/lib.sh"

here=$VR_ROOT/tests/browser
chromium=${CHROMIUM:-/usr/bin/chromium}
pid=
stop() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	rm -rf "$T"
}
trap stop EXIT
trap 'exit 143' TERM INT

if [ ! -x "$MASTER" ] || [ ! -d "$here/node_modules/playwright-core" ] || [ ! -x "$chromium" ]; then
	fail page-token "needs $MASTER, playwright-core and $chromium (make; scripts/install-deps)"
	finish
fi
gen_clip "$T/clip.mp4" 2 || { fail page-token "ffmpeg could not generate the clip"; finish; }
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
(umask 077; printf '%s\n' "$token" >"$T/token")

port=$(node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
"$MASTER" serve --host 127.0.0.1 --port "$port" --data-dir "$T/data" --segment-seconds 1 --workers 2 \
	--token-file "$T/token" >"$T/master.log" 2>&1 </dev/null &
pid=$!
up=0
for _ in $(seq 100); do
	curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && { up=1; break; }
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
[ $up = 1 ] || { fail page-token "master serve did not answer /health: $(tail -n 3 "$T/master.log" | tr '\n' '|')"; finish; }

BASE="http://127.0.0.1:$port" TOKEN="$token" CLIP="$T/clip.mp4" CHROMIUM="$chromium" \
	timeout -k 5 120 node "$here/token.test.mjs" >"$T/node.out" 2>&1 &
node_pid=$!
wait "$node_pid"
rc=$?
cat "$T/node.out"
if [ $rc -ne 0 ]; then
	grep -q '^FAIL ' "$T/node.out" || fail page-token "node exited with $rc"
	echo "--- master log (last 30 lines)"
	tail -n 30 "$T/master.log"
	e2e_failed=1
fi
finish
